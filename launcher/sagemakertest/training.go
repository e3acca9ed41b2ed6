package sagemakertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/blueblood/blueblood/container/metricdef"
)

// Secondary statuses a training job passes through before its outcome.
var stages = []string{"Starting", "Downloading", "Training", "Uploading"}

type transition struct {
	Status  string
	Start   time.Time
	End     time.Time
	Message string
}

type trainingJob struct {
	name, arn   string
	req         map[string]any
	hp          map[string]string
	tags        map[string]string
	created     time.Time
	started     time.Time
	ended       time.Time
	modified    time.Time
	status      string
	secondary   string
	transitions []transition
	ticks       int
	stage       int
	outcome     Outcome
	tuning      string // parent tuning job name
	stream      string
	startup     time.Duration // provisioning time added to timestamps after Starting
	pool        *warmPool     // with a keep-alive
	reused      string        // the job whose warm pool this one took over
}

// TrainingJobLog is the CloudWatch Logs group SageMaker writes training logs to.
const TrainingJobLog = "/aws/sagemaker/TrainingJobs"

// DefaultOutcome completes every job with a validation:rmse derived from its
// hyperparameters (smallest near learning_rate 0.01, lstm_units 64, dropout 0.2,
// more epochs), so leaderboards have a known order.
func DefaultOutcome(j Job) Outcome {
	f := func(k string, def float64) float64 {
		v, err := strconv.ParseFloat(j.HyperParameters[k], 64)
		if err != nil {
			return def
		}
		return v
	}
	epochs := math.Max(f("epochs", 40), 1)
	rmse := 0.2 + 0.05*math.Abs(math.Log10(f("learning_rate", 0.001))+2) +
		math.Abs(f("lstm_units", 64)-64)/640 + math.Abs(f("dropout_rate", 0.2)-0.2)*0.1 + 1/epochs
	rmse = math.Round(rmse*1e4) / 1e4
	metrics := map[string]float64{
		metricdef.TrainLoss:      math.Round(rmse*rmse*0.9*1e4) / 1e4,
		metricdef.ValidationLoss: math.Round(rmse*rmse*1e4) / 1e4,
		metricdef.ValidationRMSE: rmse,
		metricdef.ValidationMAE:  math.Round(rmse*0.8*1e4) / 1e4,
	}
	n := int(math.Min(epochs, 3))
	lines := []string{"blueblood trainer: training " + j.Name}
	vals := func(scale float64) []metricdef.Value {
		var out []metricdef.Value
		for _, name := range []string{metricdef.TrainLoss, metricdef.ValidationLoss, metricdef.ValidationRMSE, metricdef.ValidationMAE} {
			out = append(out, metricdef.Value{Name: name, Value: metrics[name] * scale})
		}
		return out
	}
	for e := 1; e <= n; e++ {
		lines = append(lines, metricdef.FormatEpoch(e, int(epochs), vals(1+float64(n-e)*0.1)))
	}
	lines = append(lines, metricdef.FormatBest(n, int(epochs), vals(1)))
	return Outcome{Status: "Completed", Metrics: metrics, BillableSeconds: int32(60 + epochs), LogLines: lines}
}

func (s *Server) trainingOps() map[string]HandlerFunc {
	return map[string]HandlerFunc{
		"SageMaker.CreateTrainingJob":   s.createTrainingJob,
		"SageMaker.DescribeTrainingJob": s.describeTrainingJob,
		"SageMaker.StopTrainingJob":     s.stopTrainingJob,
		"SageMaker.ListTrainingJobs":    s.listTrainingJobs,
	}
}

func (s *Server) createTrainingJob(_ context.Context, body []byte) (any, error) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	if msgs := validateTrainingJob(req); len(msgs) > 0 {
		return nil, validation(msgs)
	}
	name := req["TrainingJobName"].(string)
	if j, ok := s.jobs[name]; ok {
		return nil, &Error{Type: "ResourceInUse", Message: "Training job names must be unique within an AWS account and region, and a training job with this name already exists (" + j.arn + ")"}
	}
	if s.quota > 0 && s.running() >= s.quota {
		return nil, ResourceLimit()
	}
	j := s.addJob(name, req, "")
	return map[string]string{"TrainingJobArn": j.arn}, nil
}

func (s *Server) running() int {
	n := 0
	for _, j := range s.jobs {
		if j.status == "InProgress" || j.status == "Stopping" {
			n++
		}
	}
	return n
}

func (s *Server) addJob(name string, req map[string]any, tuning string) *trainingJob {
	now := s.now()
	j := &trainingJob{
		name: name, arn: s.arn("training-job", name), req: req, tuning: tuning,
		hp: map[string]string{}, tags: map[string]string{},
		created: now, modified: now, status: "InProgress", secondary: stages[0],
		transitions: []transition{{Status: stages[0], Start: now, Message: "Starting the training job"}},
	}
	if hp, ok := req["HyperParameters"].(map[string]any); ok {
		for k, v := range hp {
			j.hp[k], _ = v.(string)
		}
	}
	if tags, ok := req["Tags"].([]any); ok {
		for _, t := range tags {
			if m, ok := t.(map[string]any); ok {
				k, _ := m["Key"].(string)
				v, _ := m["Value"].(string)
				j.tags[k] = v
			}
		}
	}
	s.claimPool(j)
	j.outcome = s.outcome(Job{Name: name, HyperParameters: j.hp, Tags: j.tags})
	if j.outcome.Status == "" {
		j.outcome.Status = "Completed"
	}
	s.jobs[name] = j
	s.jobOrder = append(s.jobOrder, name)
	return j
}

// tick advances every running job by one request; the caller holds s.mu.
func (s *Server) tick() {
	now := s.now()
	for _, name := range s.jobOrder {
		j := s.jobs[name]
		switch j.status {
		case "Stopping":
			s.finish(j, "Stopped", "Stopped", "Training job stopped", now)
		case "InProgress":
			j.ticks++
			if j.ticks%s.steps != 0 {
				continue
			}
			j.stage++
			now := now.Add(j.startup) // provisioning is over once Starting ends
			if j.stage < len(stages) {
				s.enter(j, stages[j.stage], stageMessage[stages[j.stage]], now)
				if stages[j.stage] == "Training" {
					j.started = now
					s.writeLog(j, now)
				}
				continue
			}
			switch j.outcome.Status {
			case "Failed":
				s.finish(j, "Failed", "Failed", "Training job failed", now)
			case "Stopped":
				s.finish(j, "Stopped", "MaxRuntimeExceeded", "Training job reached the maximum runtime", now)
			default:
				s.finish(j, "Completed", "Completed", "Training job completed", now)
			}
		}
	}
	s.tickTunings(now)
}

var stageMessage = map[string]string{
	"Downloading": "Downloading input data",
	"Training":    "Training image download completed. Training in progress.",
	"Uploading":   "Uploading generated training model",
}

func (s *Server) enter(j *trainingJob, secondary, msg string, now time.Time) {
	if n := len(j.transitions); n > 0 && j.transitions[n-1].End.IsZero() {
		j.transitions[n-1].End = now
	}
	j.secondary = secondary
	j.modified = now
	j.transitions = append(j.transitions, transition{Status: secondary, Start: now, Message: msg})
}

func (s *Server) finish(j *trainingJob, status, secondary, msg string, now time.Time) {
	s.enter(j, secondary, msg, now)
	j.transitions[len(j.transitions)-1].End = now
	j.status = status
	j.ended = now
	if j.started.IsZero() {
		j.started = now
	}
	s.releasePool(j, now)
}

func (s *Server) writeLog(j *trainingJob, now time.Time) {
	j.stream = fmt.Sprintf("%s/algo-1-%d", j.name, j.created.Unix())
	for i, line := range j.outcome.LogLines {
		s.appendLog(TrainingJobLog, j.stream, now.Add(time.Duration(i)*time.Millisecond), line)
	}
}

// AppendLog adds a log line to the CloudWatch Logs store, for tests that want
// log output beyond what the job outcome writes.
func (s *Server) AppendLog(group, stream string, t time.Time, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLog(group, stream, t, message)
}

func (s *Server) describeTrainingJob(_ context.Context, body []byte) (any, error) {
	var in struct{ TrainingJobName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	j, ok := s.jobs[in.TrainingJobName]
	if !ok {
		return nil, &Error{Type: "ValidationException", Message: "Requested resource not found."}
	}
	return s.describe(j), nil
}

func (s *Server) describe(j *trainingJob) map[string]any {
	out := map[string]any{
		"TrainingJobName":   j.name,
		"TrainingJobArn":    j.arn,
		"TrainingJobStatus": j.status,
		"SecondaryStatus":   j.secondary,
		"HyperParameters":   j.hp,
		"CreationTime":      epoch(j.created),
		"LastModifiedTime":  epoch(j.modified),
		"ModelArtifacts":    map[string]any{},
	}
	for _, k := range []string{"AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
		"StoppingCondition", "EnableManagedSpotTraining", "EnableNetworkIsolation", "CheckpointConfig", "Environment"} {
		if v, ok := j.req[k]; ok {
			out[k] = v
		}
	}
	var trs []map[string]any
	for _, t := range j.transitions {
		m := map[string]any{"Status": t.Status, "StartTime": epoch(t.Start), "StatusMessage": t.Message}
		if !t.End.IsZero() {
			m["EndTime"] = epoch(t.End)
		}
		trs = append(trs, m)
	}
	out["SecondaryStatusTransitions"] = trs
	if j.tuning != "" {
		out["TuningJobArn"] = s.arn("hyper-parameter-tuning-job", j.tuning)
	}
	if wp := s.warmPoolStatus(j); wp != nil {
		out["WarmPoolStatus"] = wp
	}
	if !j.started.IsZero() {
		out["TrainingStartTime"] = epoch(j.started)
	}
	if j.status == "Completed" || j.status == "Failed" || j.status == "Stopped" {
		out["TrainingEndTime"] = epoch(j.ended)
		out["BillableTimeInSeconds"] = j.outcome.BillableSeconds
		out["TrainingTimeInSeconds"] = j.outcome.BillableSeconds
		if j.status == "Failed" {
			reason := j.outcome.FailureReason
			if reason == "" {
				reason = "AlgorithmError: training failed"
			}
			out["FailureReason"] = reason
		}
		if j.status != "Failed" {
			if p := outputPath(j.req); p != "" {
				out["ModelArtifacts"] = map[string]any{"S3ModelArtifacts": strings.TrimSuffix(p, "/") + "/" + j.name + "/output/model.tar.gz"}
			}
			var metrics []map[string]any
			for _, name := range sortedKeys(j.outcome.Metrics) {
				metrics = append(metrics, map[string]any{"MetricName": name, "Value": j.outcome.Metrics[name], "Timestamp": epoch(j.ended)})
			}
			out["FinalMetricDataList"] = metrics
		}
	}
	return out
}

func outputPath(req map[string]any) string {
	if o, ok := req["OutputDataConfig"].(map[string]any); ok {
		p, _ := o["S3OutputPath"].(string)
		return p
	}
	return ""
}

func (s *Server) stopTrainingJob(_ context.Context, body []byte) (any, error) {
	var in struct{ TrainingJobName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	j, ok := s.jobs[in.TrainingJobName]
	if !ok {
		return nil, notFound("training job " + in.TrainingJobName)
	}
	if j.status != "InProgress" {
		return nil, &Error{Type: "ValidationException", Message: "The request was rejected because the training job is in status " + j.status + "."}
	}
	j.status = "Stopping"
	s.enter(j, "Stopping", "Stopping the training job", s.now())
	return struct{}{}, nil
}

func (s *Server) listTrainingJobs(_ context.Context, body []byte) (any, error) {
	in, err := parseList(body)
	if err != nil {
		return nil, err
	}
	names, next := in.page(s.jobOrder, func(n string) string { return s.jobs[n].status })
	var sums []map[string]any
	for _, n := range names {
		j := s.jobs[n]
		m := map[string]any{"TrainingJobName": j.name, "TrainingJobArn": j.arn, "TrainingJobStatus": j.status,
			"SecondaryStatus": j.secondary, "CreationTime": epoch(j.created), "LastModifiedTime": epoch(j.modified)}
		if !j.ended.IsZero() {
			m["TrainingEndTime"] = epoch(j.ended)
		}
		sums = append(sums, m)
	}
	out := map[string]any{"TrainingJobSummaries": sums}
	if sums == nil {
		out["TrainingJobSummaries"] = []any{}
	}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// TrainingJobNames lists submitted training jobs in submission order.
func (s *Server) TrainingJobNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.jobOrder...)
}

// JobHyperParameters returns the hyperparameters a job was created with.
func (s *Server) JobHyperParameters(name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.jobs[name]; ok {
		return j.hp
	}
	return nil
}

// JobTags returns the tags a job was created with.
func (s *Server) JobTags(name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.jobs[name]; ok {
		return j.tags
	}
	return nil
}
