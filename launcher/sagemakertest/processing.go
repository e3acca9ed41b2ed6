package sagemakertest

// Processing jobs: CreateProcessingJob, DescribeProcessingJob, StopProcessingJob and
// ListProcessingJobs, added by WithProcessing. Unlike training jobs, whose outcome is
// made up, a processing job really runs: the server builds the job's /opt/ml tree in a
// temporary folder (config/processingjobconfig.json is the request, each input is
// downloaded from the ObjectStore into its LocalPath), starts the container through
// ProcessingOptions.Run (a binary, an image under Docker, or a function), writes its
// output to CloudWatch Logs under /aws/sagemaker/ProcessingJobs, stream
// "<job>/algo-1-<epoch>", and after a zero exit uploads every output folder to its S3Uri.
// StopProcessingJob cancels the run's context: the runner sends SIGINT, then kills.
//
// A job is InProgress while it runs, then Completed, Failed (FailureReason, and
// ExitMessage from output/message) or Stopped. DescribeProcessingJob of a running job
// waits a moment for it, so a polling loop that does not sleep does not spin.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline"
)

// ProcessingJobLog is the CloudWatch Logs group SageMaker writes processing logs to.
const ProcessingJobLog = "/aws/sagemaker/ProcessingJobs"

// ContainerRun is one start of a processing container.
type ContainerRun struct {
	Image      string
	Entrypoint []string // AppSpecification.ContainerEntrypoint; nil keeps the image's
	Arguments  []string // AppSpecification.ContainerArguments
	Env        map[string]string
	Root       string    // the host folder that is the container's /opt/ml
	Log        io.Writer // the container's stdout and stderr
}

// ContainerRunner runs a container until it exits and returns its exit status; err is
// for a container that could not be started. When ctx is cancelled (StopProcessingJob)
// it must deliver SIGINT, then SIGKILL after a grace period, as the service does.
type ContainerRunner func(ctx context.Context, run ContainerRun) (exitCode int, err error)

// ProcessingOptions configures the processing operations.
type ProcessingOptions struct {
	Run   ContainerRunner      // required
	Store pipeline.ObjectStore // where S3 inputs come from and outputs go; required
	// Wait is how long DescribeProcessingJob waits for a running job (default 20 ms).
	Wait time.Duration
}

var processingInstanceTypes = strings.Fields(`ml.t3.medium ml.t3.large ml.t3.xlarge ml.t3.2xlarge
ml.m4.xlarge ml.m4.2xlarge ml.m4.4xlarge ml.m4.10xlarge ml.m4.16xlarge
ml.c4.xlarge ml.c4.2xlarge ml.c4.4xlarge ml.c4.8xlarge
ml.p2.xlarge ml.p2.8xlarge ml.p2.16xlarge ml.p3.2xlarge ml.p3.8xlarge ml.p3.16xlarge
ml.c5.xlarge ml.c5.2xlarge ml.c5.4xlarge ml.c5.9xlarge ml.c5.18xlarge
ml.m5.large ml.m5.xlarge ml.m5.2xlarge ml.m5.4xlarge ml.m5.12xlarge ml.m5.24xlarge
ml.r5.large ml.r5.xlarge ml.r5.2xlarge ml.r5.4xlarge ml.r5.8xlarge ml.r5.12xlarge ml.r5.16xlarge ml.r5.24xlarge
ml.g4dn.xlarge ml.g4dn.2xlarge ml.g4dn.4xlarge ml.g4dn.8xlarge ml.g4dn.12xlarge ml.g4dn.16xlarge`)

type processingJob struct {
	name, arn   string
	req         map[string]any
	body        []byte
	status      string
	failure     string
	exitMessage string
	created     time.Time
	started     time.Time
	ended       time.Time
	modified    time.Time
	cancel      context.CancelFunc
	done        chan struct{}
}

type processingState struct {
	s     *Server
	opt   ProcessingOptions
	jobs  map[string]*processingJob
	order []string
	wg    sync.WaitGroup
}

// WithProcessing adds the processing operations.
func WithProcessing(opt ProcessingOptions) Option {
	if opt.Wait <= 0 {
		opt.Wait = 20 * time.Millisecond
	}
	return func(s *Server) {
		st := &processingState{s: s, opt: opt, jobs: map[string]*processingJob{}}
		s.processingHook = st
		WithOps(func(*Server) map[string]HandlerFunc {
			return map[string]HandlerFunc{
				"SageMaker.CreateProcessingJob":   st.create,
				"SageMaker.DescribeProcessingJob": st.describe,
				"SageMaker.StopProcessingJob":     st.stop,
				"SageMaker.ListProcessingJobs":    st.list,
			}
		})(s)
	}
}

// validateProcessingJob checks a CreateProcessingJob request against the API model.
func validateProcessingJob(req map[string]any) []string {
	c := &checker{}
	c.processingSecurity(req)
	if c.required(req, "ProcessingJobName", "processingJobName") {
		c.str(req["ProcessingJobName"], "processingJobName", 1, 63, reJobName)
	}
	if c.required(req, "RoleArn", "roleArn") {
		c.str(req["RoleArn"], "roleArn", 20, 2048, reRoleARN)
	}
	if c.required(req, "AppSpecification", "appSpecification") {
		a := obj(req["AppSpecification"])
		if c.required(a, "ImageUri", "appSpecification.imageUri") {
			c.str(a["ImageUri"], "appSpecification.imageUri", 0, 255, nil)
		}
		for _, k := range []string{"ContainerEntrypoint", "ContainerArguments"} {
			v, ok := a[k]
			if !ok {
				continue
			}
			path := "appSpecification." + strings.ToLower(k[:1]) + k[1:]
			l := list(v)
			if len(l) < 1 || len(l) > 100 {
				c.fail(len(l), path, "have length between 1 and 100")
			}
			for i, s := range l {
				c.str(s, fmt.Sprintf("%s.%d.member", path, i+1), 0, 256, nil)
			}
		}
	}
	if c.required(req, "ProcessingResources", "processingResources") {
		cc := obj(obj(req["ProcessingResources"])["ClusterConfig"])
		if cc == nil {
			c.fail(nil, "processingResources.clusterConfig", "not be null")
		} else {
			if c.required(cc, "InstanceCount", "processingResources.clusterConfig.instanceCount") {
				c.intRange(cc["InstanceCount"], "processingResources.clusterConfig.instanceCount", 1, 100)
			}
			if c.required(cc, "InstanceType", "processingResources.clusterConfig.instanceType") {
				c.enum(cc["InstanceType"], "processingResources.clusterConfig.instanceType", processingInstanceTypes...)
			}
			if c.required(cc, "VolumeSizeInGB", "processingResources.clusterConfig.volumeSizeInGB") {
				c.intRange(cc["VolumeSizeInGB"], "processingResources.clusterConfig.volumeSizeInGB", 1, 16384)
			}
		}
	}
	if sc, ok := req["StoppingCondition"]; ok {
		m := obj(sc)
		if c.required(m, "MaxRuntimeInSeconds", "stoppingCondition.maxRuntimeInSeconds") {
			c.intRange(m["MaxRuntimeInSeconds"], "stoppingCondition.maxRuntimeInSeconds", 1, 777600)
		}
	}
	c.s3Channels(list(req["ProcessingInputs"]), "processingInputs", "Input", func(s3 map[string]any, p string) {
		if c.required(s3, "S3DataType", p+".s3DataType") {
			c.enum(s3["S3DataType"], p+".s3DataType", "ManifestFile", "S3Prefix")
		}
		if c.required(s3, "S3InputMode", p+".s3InputMode") {
			c.enum(s3["S3InputMode"], p+".s3InputMode", "Pipe", "File")
		}
		if v, ok := s3["S3DataDistributionType"]; ok {
			c.enum(v, p+".s3DataDistributionType", "FullyReplicated", "ShardedByS3Key")
		}
		if v, ok := s3["S3CompressionType"]; ok {
			c.enum(v, p+".s3CompressionType", "None", "Gzip")
			if v == "Gzip" && s3["S3InputMode"] != "Pipe" {
				c.fail(v, p+".s3CompressionType", "be None unless s3InputMode is Pipe")
			}
		}
	})
	if oc, ok := req["ProcessingOutputConfig"]; ok {
		c.s3Channels(list(obj(oc)["Outputs"]), "processingOutputConfig.outputs", "Output", func(s3 map[string]any, p string) {
			if c.required(s3, "S3UploadMode", p+".s3UploadMode") {
				c.enum(s3["S3UploadMode"], p+".s3UploadMode", "Continuous", "EndOfJob")
			}
		})
	}
	if env, ok := req["Environment"]; ok {
		c.environment(env, "environment", 100, 256)
	}
	c.tags(req["Tags"])
	return c.msgs
}

// s3Channels checks processing inputs or outputs (kind "Input" or "Output") at path:
// at most 10, each with a unique <kind>Name and an S3<kind> with an S3Uri and a
// LocalPath; more checks the rest of each S3<kind>.
func (c *checker) s3Channels(items []any, path, kind string, more func(s3 map[string]any, p string)) {
	if len(items) > 10 {
		c.fail(len(items), path, "have length less than or equal to 10")
	}
	names := map[string]bool{}
	for i, it := range items {
		m := obj(it)
		p := fmt.Sprintf("%s.%d.member", path, i+1)
		name := kind + "Name"
		if c.required(m, name, p+"."+lowerFirst(name)) {
			c.str(m[name], p+"."+lowerFirst(name), 1, 0, nil)
			c.unique(names, m[name], p+"."+lowerFirst(name))
		}
		s3 := obj(m["S3"+kind])
		p += ".s3" + kind
		if s3 == nil {
			c.fail(nil, p, "not be null (the test server runs S3 "+strings.ToLower(kind)+"s only)")
			continue
		}
		if c.required(s3, "S3Uri", p+".s3Uri") {
			c.str(s3["S3Uri"], p+".s3Uri", 0, 1024, reS3URI)
		}
		if c.required(s3, "LocalPath", p+".localPath") {
			c.localPath(s3["LocalPath"], p+".localPath")
		}
		more(s3, p)
	}
}

func (c *checker) unique(seen map[string]bool, v any, path string) {
	s, _ := v.(string)
	if seen[s] {
		c.fail(s, path, "be unique")
	}
	seen[s] = true
}

// localPath checks a processing LocalPath: at most 256 characters below /opt/ml/processing/.
func (c *checker) localPath(v any, path string) {
	c.str(v, path, 0, 256, nil)
	if s, ok := v.(string); ok {
		if _, err := (optml.Paths{Root: optml.DefaultRoot}).Local(s); err != nil {
			c.fail(s, path, "begin with /opt/ml/processing/")
		}
	}
}

func (st *processingState) create(_ context.Context, body []byte) (any, error) {
	req, err := decode(body)
	if err != nil {
		return nil, err
	}
	if msgs := validateProcessingJob(req); len(msgs) > 0 {
		return nil, validation(msgs)
	}
	name := req["ProcessingJobName"].(string)
	if j, ok := st.jobs[name]; ok {
		return nil, &Error{Type: "ResourceInUse", Message: "Processing job names must be unique within an AWS account and region, and a processing job with this name already exists (" + j.arn + ")"}
	}
	now := st.s.now()
	j := &processingJob{name: name, arn: st.s.arn("processing-job", name), req: req, body: append([]byte(nil), body...),
		status: "InProgress", created: now, started: now, modified: now, done: make(chan struct{})}
	st.jobs[name] = j
	st.order = append(st.order, name)
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel = cancel
	stream := fmt.Sprintf("%s/algo-1-%d", name, now.Unix())
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		defer cancel()
		status, failure, message := st.execute(ctx, j, stream)
		st.s.mu.Lock()
		if j.status == "Stopping" {
			status, failure = "Stopped", ""
		}
		j.status, j.failure, j.exitMessage = status, failure, message
		j.ended, j.modified = st.s.now(), st.s.now()
		close(j.done)
		st.s.mu.Unlock()
	}()
	return map[string]string{"ProcessingJobArn": j.arn}, nil
}

// execute runs the job to its end: Completed, Failed with a reason, or Stopped.
func (st *processingState) execute(ctx context.Context, j *processingJob, stream string) (status, failure, message string) {
	root, err := os.MkdirTemp("", "sagemakertest-processing-")
	if err != nil {
		return "Failed", "InternalServerError: " + err.Error(), ""
	}
	defer os.RemoveAll(root)
	p := optml.Paths{Root: root}
	var cfg optml.ProcessingJobConfig
	if err := json.Unmarshal(j.body, &cfg); err != nil {
		return "Failed", "InternalServerError: " + err.Error(), ""
	}
	files := map[string][]byte{
		p.ProcessingConfig():         j.body,
		p.ProcessingResourceConfig(): []byte(`{"current_host":"algo-1","hosts":["algo-1"]}`),
	}
	for path, data := range files {
		if err := writeFile(path, data); err != nil {
			return "Failed", "InternalServerError: " + err.Error(), ""
		}
	}
	if err := os.MkdirAll(p.OutputDir(), 0o755); err != nil {
		return "Failed", "InternalServerError: " + err.Error(), ""
	}
	for _, in := range cfg.ProcessingInputs {
		local, err := p.Local(in.S3Input.LocalPath)
		if err == nil {
			err = download(ctx, st.opt.Store, in.S3Input.S3URI, local)
		}
		if err != nil {
			return "Failed", "ClientError: input " + in.InputName + ": " + err.Error(), ""
		}
	}
	var outs []optml.ProcessingOutput
	if cfg.ProcessingOutputConfig != nil {
		outs = cfg.ProcessingOutputConfig.Outputs
	}
	for _, out := range outs {
		local, err := p.Local(out.S3Output.LocalPath)
		if err == nil {
			err = os.MkdirAll(local, 0o755)
		}
		if err != nil {
			return "Failed", "InternalServerError: output " + out.OutputName + ": " + err.Error(), ""
		}
	}
	lw := &logWriter{st: st, stream: stream}
	code, err := st.opt.Run(ctx, ContainerRun{Image: cfg.AppSpecification.ImageURI, Entrypoint: cfg.AppSpecification.ContainerEntrypoint,
		Arguments: cfg.AppSpecification.ContainerArguments, Env: cfg.Environment, Root: root, Log: lw})
	lw.flush()
	if b, rerr := os.ReadFile(p.ExitMessage()); rerr == nil {
		message = string(b[:min(len(b), optml.MaxExitMessageBytes)])
	}
	switch {
	case ctx.Err() != nil:
		return "Stopped", "", message
	case err != nil:
		return "Failed", "InternalServerError: cannot start the container: " + err.Error(), message
	case code != 0:
		return "Failed", "AlgorithmError: See job logs for more information", message
	}
	for _, out := range outs {
		local, _ := p.Local(out.S3Output.LocalPath)
		if err := upload(ctx, st.opt.Store, local, out.S3Output.S3URI); err != nil {
			return "Failed", "ClientError: output " + out.OutputName + ": " + err.Error(), message
		}
	}
	return "Completed", "", message
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// logWriter turns the container's output into log events, one per line.
type logWriter struct {
	st     *processingState
	stream string
	mu     sync.Mutex
	buf    []byte
}

func (w *logWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := slices.Index(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *logWriter) emit(line string) {
	s := w.st.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLog(ProcessingJobLog, w.stream, s.now(), line)
}

func (st *processingState) named(body []byte) (*processingJob, error) {
	name, err := nameOf(body, "ProcessingJobName")
	if err != nil {
		return nil, err
	}
	j, ok := st.jobs[name]
	if !ok {
		return nil, &Error{Type: "ResourceNotFound", Message: "Processing job " + st.s.arn("processing-job", name) + " does not exist."}
	}
	return j, nil
}

func (st *processingState) describe(_ context.Context, body []byte) (any, error) {
	j, err := st.named(body)
	if err != nil {
		return nil, err
	}
	// Wait a moment for a running job, with the lock released so it can log and end.
	st.s.mu.Unlock()
	select {
	case <-j.done:
	case <-time.After(st.opt.Wait):
	}
	st.s.mu.Lock()
	out := map[string]any{"ProcessingJobName": j.name, "ProcessingJobArn": j.arn, "ProcessingJobStatus": j.status,
		"CreationTime": epoch(j.created), "ProcessingStartTime": epoch(j.started), "LastModifiedTime": epoch(j.modified)}
	for _, k := range []string{"AppSpecification", "Environment", "ProcessingInputs", "ProcessingOutputConfig",
		"ProcessingResources", "StoppingCondition", "RoleArn", "NetworkConfig"} {
		if v, ok := j.req[k]; ok {
			out[k] = v
		}
	}
	j.ending(out)
	return out, nil
}

// ending adds how the job ended, once it has, to its description or summary m.
func (j *processingJob) ending(m map[string]any) {
	if !j.ended.IsZero() {
		m["ProcessingEndTime"] = epoch(j.ended)
	}
	if j.failure != "" {
		m["FailureReason"] = j.failure
	}
	if j.exitMessage != "" {
		m["ExitMessage"] = j.exitMessage
	}
}

func (st *processingState) stop(_ context.Context, body []byte) (any, error) {
	j, err := st.named(body)
	if err != nil {
		return nil, err
	}
	if j.status != "InProgress" {
		return nil, validationMsg(fmt.Sprintf("The request was rejected because the processing job is in status %s.", j.status))
	}
	j.status, j.modified = "Stopping", st.s.now()
	j.cancel()
	return struct{}{}, nil
}

func (st *processingState) list(_ context.Context, body []byte) (any, error) {
	in, err := parseList(body)
	if err != nil {
		return nil, err
	}
	if in.StatusEquals != "" {
		c := &checker{}
		c.enum(in.StatusEquals, "statusEquals", "InProgress", "Completed", "Failed", "Stopping", "Stopped")
		if len(c.msgs) > 0 {
			return nil, validation(c.msgs)
		}
	}
	names, next := in.page(st.order, func(n string) string { return st.jobs[n].status })
	sums := []map[string]any{}
	for _, n := range names {
		j := st.jobs[n]
		m := map[string]any{"ProcessingJobName": j.name, "ProcessingJobArn": j.arn, "ProcessingJobStatus": j.status,
			"CreationTime": epoch(j.created), "LastModifiedTime": epoch(j.modified)}
		j.ending(m)
		sums = append(sums, m)
	}
	out := map[string]any{"ProcessingJobSummaries": sums}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// WaitProcessing blocks until every processing job has ended (for test cleanup).
func (s *Server) WaitProcessing() {
	s.mu.Lock()
	st := s.processingHook
	s.mu.Unlock()
	if st != nil {
		st.wg.Wait()
	}
}

// ProcessingJobs lists the created processing jobs' requests by name.
func (s *Server) ProcessingJobs() map[string]map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]any{}
	if st := s.processingHook; st != nil {
		for name, j := range st.jobs {
			out[name] = j.req
		}
	}
	return out
}
