package sagemakertest

// Batch transform: CreateTransformJob, DescribeTransformJob and StopTransformJob,
// added by WithTransforms (which needs WithEndpoints: the job names a model). A job
// moves InProgress → Completed (or Failed with TransformOptions.FailureReason), one
// step per DescribeTransformJob call of it. The server checks the request against
// the documented constraints; it does not read the input or write the output.

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TransformOptions configures the batch transform operations.
type TransformOptions struct {
	// FailureReason, when set, makes every transform job end Failed with it.
	FailureReason string
	// Steps is how many DescribeTransformJob calls a job spends InProgress (default 2).
	Steps int
}

var transformInstanceTypes = strings.Fields(`ml.m4.xlarge ml.m4.2xlarge ml.m4.4xlarge ml.m4.10xlarge ml.m4.16xlarge
ml.c4.xlarge ml.c4.2xlarge ml.c4.4xlarge ml.c4.8xlarge ml.p2.xlarge ml.p2.8xlarge ml.p2.16xlarge
ml.p3.2xlarge ml.p3.8xlarge ml.p3.16xlarge ml.c5.xlarge ml.c5.2xlarge ml.c5.4xlarge ml.c5.9xlarge ml.c5.18xlarge
ml.m5.large ml.m5.xlarge ml.m5.2xlarge ml.m5.4xlarge ml.m5.12xlarge ml.m5.24xlarge
ml.g4dn.xlarge ml.g4dn.2xlarge ml.g4dn.4xlarge ml.g4dn.8xlarge ml.g4dn.12xlarge ml.g4dn.16xlarge`)

type transformJob struct {
	name, arn string
	req       map[string]any
	status    string
	steps     int
	created   time.Time
	ended     time.Time
}

type transformState struct {
	s    *Server
	opt  TransformOptions
	jobs map[string]*transformJob
}

// WithTransforms adds the batch transform operations; use it with WithEndpoints.
func WithTransforms(opt TransformOptions) Option {
	if opt.Steps <= 0 {
		opt.Steps = 2
	}
	return func(s *Server) {
		st := &transformState{s: s, opt: opt, jobs: map[string]*transformJob{}}
		s.transformsHook = st
		WithOps(func(*Server) map[string]HandlerFunc {
			return map[string]HandlerFunc{
				"SageMaker.CreateTransformJob":   st.create,
				"SageMaker.DescribeTransformJob": st.describe,
				"SageMaker.StopTransformJob":     st.stop,
			}
		})(s)
	}
}

func (st *transformState) create(_ context.Context, body []byte) (any, error) {
	req, err := decode(body)
	if err != nil {
		return nil, err
	}
	c := &checker{}
	if c.required(req, "TransformJobName", "transformJobName") {
		c.str(req["TransformJobName"], "transformJobName", 1, 63, reResourceName)
	}
	if c.required(req, "ModelName", "modelName") {
		c.str(req["ModelName"], "modelName", 1, 63, reResourceName)
	}
	if c.required(req, "TransformInput", "transformInput") {
		in := obj(req["TransformInput"])
		s3 := obj(obj(in["DataSource"])["S3DataSource"])
		if s3 == nil {
			c.fail(nil, "transformInput.dataSource.s3DataSource", "not be null")
		} else {
			c.enum(s3["S3DataType"], "transformInput.dataSource.s3DataSource.s3DataType", "ManifestFile", "S3Prefix", "AugmentedManifestFile")
			c.str(s3["S3Uri"], "transformInput.dataSource.s3DataSource.s3Uri", 0, 1024, reS3URI)
		}
		if v, ok := in["ContentType"]; ok {
			c.str(v, "transformInput.contentType", 0, 256, nil)
		}
		if v, ok := in["SplitType"]; ok {
			c.enum(v, "transformInput.splitType", "None", "Line", "RecordIO", "TFRecord")
		}
		if v, ok := in["CompressionType"]; ok {
			c.enum(v, "transformInput.compressionType", "None", "Gzip")
		}
	}
	if c.required(req, "TransformOutput", "transformOutput") {
		out := obj(req["TransformOutput"])
		if c.required(out, "S3OutputPath", "transformOutput.s3OutputPath") {
			c.str(out["S3OutputPath"], "transformOutput.s3OutputPath", 0, 1024, reS3URI)
		}
		if v, ok := out["Accept"]; ok {
			c.str(v, "transformOutput.accept", 0, 256, nil)
		}
		if v, ok := out["AssembleWith"]; ok {
			c.enum(v, "transformOutput.assembleWith", "None", "Line")
		}
	}
	if c.required(req, "TransformResources", "transformResources") {
		r := obj(req["TransformResources"])
		if c.required(r, "InstanceType", "transformResources.instanceType") {
			c.enum(r["InstanceType"], "transformResources.instanceType", transformInstanceTypes...)
		}
		if c.required(r, "InstanceCount", "transformResources.instanceCount") {
			c.integer(r["InstanceCount"], "transformResources.instanceCount", 1)
		}
	}
	var payload, concurrent float64
	if v, ok := req["MaxPayloadInMB"]; ok {
		payload, _ = c.integer(v, "maxPayloadInMB", 0)
		if payload > 100 {
			c.fail(v, "maxPayloadInMB", "have value less than or equal to 100")
		}
	}
	if v, ok := req["MaxConcurrentTransforms"]; ok {
		concurrent, _ = c.integer(v, "maxConcurrentTransforms", 0)
	}
	if payload > 0 && concurrent > 0 && payload*concurrent > 100 {
		c.fail(payload*concurrent, "maxConcurrentTransforms", "times maxPayloadInMB be at most 100 MB")
	}
	if v, ok := req["BatchStrategy"]; ok {
		c.enum(v, "batchStrategy", "MultiRecord", "SingleRecord")
	}
	if env, ok := req["Environment"]; ok {
		c.environment(env, "environment", 16, 10240)
	}
	c.transformExtras(req)
	c.tags(req["Tags"])
	if len(c.msgs) > 0 {
		return nil, validation(c.msgs)
	}
	name := req["TransformJobName"].(string)
	if j, ok := st.jobs[name]; ok {
		return nil, &Error{Type: "ResourceInUse", Message: "Job name must be unique within an AWS account and region, and a job with this name already exists (" + j.arn + ")"}
	}
	model := req["ModelName"].(string)
	if h := st.s.endpointsHook; h == nil || h.models[model] == nil {
		return nil, validationMsg(fmt.Sprintf("Could not find model %q.", st.s.arn("model", model)))
	}
	j := &transformJob{name: name, arn: st.s.arn("transform-job", name), req: req, status: "InProgress", steps: st.opt.Steps, created: st.s.now()}
	st.jobs[name] = j
	return map[string]string{"TransformJobArn": j.arn}, nil
}

func (st *transformState) named(body []byte) (*transformJob, error) {
	name, err := nameOf(body, "TransformJobName")
	if err != nil {
		return nil, err
	}
	j, ok := st.jobs[name]
	if !ok {
		return nil, validationMsg("Could not find requested job with name " + name)
	}
	return j, nil
}

func (st *transformState) describe(_ context.Context, body []byte) (any, error) {
	j, err := st.named(body)
	if err != nil {
		return nil, err
	}
	switch j.status {
	case "InProgress":
		if j.steps--; j.steps <= 0 {
			j.status, j.ended = "Completed", st.s.now()
			if st.opt.FailureReason != "" {
				j.status = "Failed"
			}
		}
	case "Stopping":
		j.status, j.ended = "Stopped", st.s.now()
	}
	out := map[string]any{"TransformJobName": j.name, "TransformJobArn": j.arn, "TransformJobStatus": j.status,
		"CreationTime": epoch(j.created)}
	for _, k := range []string{"ModelName", "TransformInput", "TransformOutput", "TransformResources", "MaxPayloadInMB",
		"MaxConcurrentTransforms", "BatchStrategy", "Environment"} {
		if v, ok := j.req[k]; ok {
			out[k] = v
		}
	}
	if !j.ended.IsZero() {
		out["TransformEndTime"] = epoch(j.ended)
	}
	if j.status == "Failed" {
		out["FailureReason"] = st.opt.FailureReason
	}
	return out, nil
}

func (st *transformState) stop(_ context.Context, body []byte) (any, error) {
	j, err := st.named(body)
	if err != nil {
		return nil, err
	}
	if j.status == "InProgress" {
		j.status = "Stopping"
	}
	return struct{}{}, nil
}

// TransformJobs lists the created transform jobs' requests by name.
func (s *Server) TransformJobs() map[string]map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]any{}
	if st := s.transformsHook; st != nil {
		for name, j := range st.jobs {
			out[name] = j.req
		}
	}
	return out
}
