package sagemakertest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

type paramRange struct {
	name, kind, scaling string // kind: Integer, Continuous, Categorical
	min, max            float64
	values              []string
}

type tuningJob struct {
	name, arn   string
	req         map[string]any
	config      map[string]any
	def         map[string]any
	objective   string
	maximize    bool
	maxParallel int
	total       int
	ranges      []paramRange
	grid        [][]string // Grid strategy: every combination, in order
	children    []string
	status      string
	created     time.Time
	ended       time.Time
	modified    time.Time
}

func (s *Server) tuningOps() map[string]HandlerFunc {
	return map[string]HandlerFunc{
		"SageMaker.CreateHyperParameterTuningJob":              s.createTuningJob,
		"SageMaker.DescribeHyperParameterTuningJob":            s.describeTuningJob,
		"SageMaker.StopHyperParameterTuningJob":                s.stopTuningJob,
		"SageMaker.ListTrainingJobsForHyperParameterTuningJob": s.listTuningChildren,
	}
}

func (s *Server) createTuningJob(_ context.Context, body []byte) (any, error) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	t, msgs := s.parseTuning(req)
	if len(msgs) > 0 {
		return nil, validation(msgs)
	}
	if old, ok := s.tunings[t.name]; ok {
		return nil, &Error{Type: "ResourceInUse", Message: "Hyperparameter tuning job names must be unique within an AWS account and region, and a job with this name already exists (" + old.arn + ")"}
	}
	for _, p := range list(obj(req["WarmStartConfig"])["ParentHyperParameterTuningJobs"]) {
		parent, _ := obj(p)["HyperParameterTuningJobName"].(string)
		if _, ok := s.tunings[parent]; !ok {
			return nil, notFound("hyperparameter tuning job " + parent)
		}
	}
	now := s.now()
	t.arn = s.arn("hyper-parameter-tuning-job", t.name)
	t.status, t.created, t.modified = "InProgress", now, now
	s.tunings[t.name] = t
	return map[string]string{"HyperParameterTuningJobArn": t.arn}, nil
}

// parseTuning validates a CreateHyperParameterTuningJob request against the
// documented constraints and rules.
func (s *Server) parseTuning(req map[string]any) (*tuningJob, []string) {
	c := &checker{}
	t := &tuningJob{req: req}
	if c.required(req, "HyperParameterTuningJobName", "hyperParameterTuningJobName") {
		c.str(req["HyperParameterTuningJobName"], "hyperParameterTuningJobName", 1, 32, reTuningName)
		t.name, _ = req["HyperParameterTuningJobName"].(string)
	}
	c.tags(req["Tags"])
	if !c.required(req, "HyperParameterTuningJobConfig", "hyperParameterTuningJobConfig") {
		return t, c.msgs
	}
	cfg := obj(req["HyperParameterTuningJobConfig"])
	t.config = cfg
	p := "hyperParameterTuningJobConfig"
	strategy, _ := cfg["Strategy"].(string)
	c.enum(cfg["Strategy"], p+".strategy", "Bayesian", "Random", "Hyperband", "Grid")
	es, hasES := cfg["TrainingJobEarlyStoppingType"]
	if hasES {
		c.enum(es, p+".trainingJobEarlyStoppingType", "Off", "Auto")
	}
	if strategy == "Hyperband" && es == "Auto" {
		c.fail(es, p+".trainingJobEarlyStoppingType", "be Off when the strategy is Hyperband")
	}
	if o := obj(cfg["HyperParameterTuningJobObjective"]); o != nil {
		c.enum(o["Type"], p+".hyperParameterTuningJobObjective.type", "Maximize", "Minimize")
		c.str(o["MetricName"], p+".hyperParameterTuningJobObjective.metricName", 1, 255, nil)
		t.objective, _ = o["MetricName"].(string)
		t.maximize = o["Type"] == "Maximize"
	} else if strategy != "Grid" && strategy != "Random" {
		c.fail(nil, p+".hyperParameterTuningJobObjective", "not be null")
	}
	c.tuningStop(cfg, p)
	limits := obj(cfg["ResourceLimits"])
	if !c.required(cfg, "ResourceLimits", p+".resourceLimits") {
		return t, c.msgs
	}
	if c.required(limits, "MaxParallelTrainingJobs", p+".resourceLimits.maxParallelTrainingJobs") {
		v, _ := c.integer(limits["MaxParallelTrainingJobs"], p+".resourceLimits.maxParallelTrainingJobs", 1)
		t.maxParallel = int(v)
	}
	if v, ok := limits["MaxNumberOfTrainingJobs"]; ok {
		n, _ := c.integer(v, p+".resourceLimits.maxNumberOfTrainingJobs", 1)
		t.total = int(n)
	}
	pr := obj(cfg["ParameterRanges"])
	total := 0
	for _, kind := range []string{"Integer", "Continuous", "Categorical"} {
		rs := list(pr[kind+"ParameterRanges"])
		total += len(rs)
		for i, r := range rs {
			m := obj(r)
			rp := fmt.Sprintf("%s.parameterRanges.%sParameterRanges.%d.member", p, lowerFirst(kind), i+1)
			rg := paramRange{kind: kind}
			rg.name, _ = m["Name"].(string)
			c.str(m["Name"], rp+".name", 1, 256, nil)
			if kind == "Categorical" {
				for _, v := range list(m["Values"]) {
					sv, _ := v.(string)
					rg.values = append(rg.values, sv)
				}
				if len(rg.values) < 1 || len(rg.values) > 30 {
					c.fail(len(rg.values), rp+".values", "have length between 1 and 30")
				}
			} else {
				rg.min, rg.max = c.bound(m["MinValue"], rp+".minValue", kind), c.bound(m["MaxValue"], rp+".maxValue", kind)
				if rg.min > rg.max {
					c.fail(m["MinValue"], rp+".minValue", "be less than or equal to maxValue")
				}
				if v, ok := m["ScalingType"]; ok {
					c.enum(v, rp+".scalingType", "Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
					rg.scaling, _ = v.(string)
				}
				if rg.scaling == "Logarithmic" && rg.min <= 0 {
					c.fail(m["MinValue"], rp+".minValue", "be greater than 0 for Logarithmic scaling")
				}
				if rg.scaling == "ReverseLogarithmic" && (kind != "Continuous" || rg.min < 0 || rg.max >= 1) {
					c.fail(m["MaxValue"], rp+".scalingType", "be used only for continuous ranges within [0, 1)")
				}
			}
			if strategy == "Grid" && kind != "Categorical" {
				c.fail(rg.name, rp, "be a categorical range when the strategy is Grid")
			}
			t.ranges = append(t.ranges, rg)
		}
	}
	if total > 30 {
		c.fail(total, p+".parameterRanges", "have at most 30 ranges in total")
	}
	if strategy == "Grid" {
		t.grid = [][]string{{}}
		for _, r := range t.ranges {
			var next [][]string
			for _, g := range t.grid {
				for _, v := range r.values {
					next = append(next, append(append([]string(nil), g...), v))
				}
			}
			t.grid = next
		}
		if t.total != 0 && t.total != len(t.grid) {
			c.fail(t.total, p+".resourceLimits.maxNumberOfTrainingJobs", fmt.Sprintf("equal the number of grid combinations (%d) or be omitted", len(t.grid)))
		}
		t.total = len(t.grid)
	} else if t.total == 0 {
		c.fail(nil, p+".resourceLimits.maxNumberOfTrainingJobs", "not be null")
	}
	_, one := req["TrainingJobDefinition"]
	_, many := req["TrainingJobDefinitions"]
	if one == many {
		c.fail(nil, "trainingJobDefinition", "be set, exclusive of trainingJobDefinitions")
		return t, c.msgs
	}
	if many {
		c.fail(nil, "trainingJobDefinitions", "not be used by this test server")
		return t, c.msgs
	}
	def := obj(req["TrainingJobDefinition"])
	t.def = def
	dp := "trainingJobDefinition."
	c.hyperParameters(def["StaticHyperParameters"], dp+"staticHyperParameters")
	c.strategyConfig(cfg, strategy, obj(def["StaticHyperParameters"]))
	if c.required(def, "AlgorithmSpecification", dp+"algorithmSpecification") {
		a := obj(def["AlgorithmSpecification"])
		c.algorithm(a, dp+"algorithmSpecification")
		if t.objective != "" {
			found := false
			for _, d := range list(a["MetricDefinitions"]) {
				found = found || obj(d)["Name"] == t.objective
			}
			if !found {
				c.fail(t.objective, p+".hyperParameterTuningJobObjective.metricName", "be the name of one of the metric definitions")
			}
		}
	}
	if c.required(def, "RoleArn", dp+"roleArn") {
		c.str(def["RoleArn"], dp+"roleArn", 20, 2048, reRoleARN)
	}
	c.trainingDefinition(def, dp)
	if ws := obj(req["WarmStartConfig"]); ws != nil {
		parents := list(ws["ParentHyperParameterTuningJobs"])
		if len(parents) < 1 || len(parents) > 5 {
			c.fail(len(parents), "warmStartConfig.parentHyperParameterTuningJobs", "have length between 1 and 5")
		}
		c.enum(ws["WarmStartType"], "warmStartConfig.warmStartType", "IdenticalDataAndAlgorithm", "TransferLearning")
	}
	return t, c.msgs
}

// hyperbandEpochKeys are the static hyperparameters the service infers Hyperband's
// MaxResource from when HyperbandStrategyConfig.MaxResource is absent.
var hyperbandEpochKeys = []string{"epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs"}

// strategyConfig applies the HyperbandStrategyConfig rules: only with Hyperband;
// MinResource and MaxResource at least 1, MaxResource at most 20000 and not below
// MinResource; without MaxResource a static epochs key must be there to infer it.
func (c *checker) strategyConfig(cfg map[string]any, strategy string, static map[string]any) {
	p := "hyperParameterTuningJobConfig.strategyConfig.hyperbandStrategyConfig"
	sc, has := cfg["StrategyConfig"]
	if has && strategy != "Hyperband" {
		c.fail(strategy, "hyperParameterTuningJobConfig.strategyConfig", "be set only when the strategy is Hyperband")
	}
	if strategy != "Hyperband" {
		return
	}
	hb := obj(obj(sc)["HyperbandStrategyConfig"])
	var lo, hi float64
	if v, ok := hb["MinResource"]; ok {
		lo, _ = c.integer(v, p+".minResource", 1)
	}
	if v, ok := hb["MaxResource"]; ok {
		hi, _ = c.integer(v, p+".maxResource", 1)
		if hi > 20000 {
			c.fail(v, p+".maxResource", "have value less than or equal to 20000")
		}
		if lo > hi {
			c.fail(v, p+".maxResource", "be greater than or equal to minResource")
		}
		return
	}
	for _, k := range hyperbandEpochKeys {
		if _, ok := static[k]; ok {
			return
		}
	}
	c.fail(nil, p+".maxResource", "be set: cannot infer MaxResource, none of "+strings.Join(hyperbandEpochKeys, ", ")+" is a static hyperparameter")
}

func lowerFirst(s string) string { return string(s[0]+'a'-'A') + s[1:] }

// bound parses a range bound, which the API takes as a string.
func (c *checker) bound(v any, path, kind string) float64 {
	s, ok := v.(string)
	if !ok {
		c.fail(v, path, "be a string")
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || (kind == "Integer" && f != math.Trunc(f)) {
		c.fail(s, path, "be a number of the range's type")
	}
	return f
}

// tickTunings starts children while there are free parallel slots and finishes
// tuning jobs whose children are all done; the caller holds s.mu.
func (s *Server) tickTunings(now time.Time) {
	for _, name := range sortedKeys(s.tunings) {
		t := s.tunings[name]
		if t.status != "InProgress" && t.status != "Stopping" {
			continue
		}
		running := 0
		for _, c := range t.children {
			if st := s.jobs[c].status; st == "InProgress" || st == "Stopping" {
				running++
			}
		}
		if t.status == "Stopping" {
			for _, c := range t.children {
				if s.jobs[c].status == "InProgress" {
					s.jobs[c].status = "Stopping"
				}
			}
			if running == 0 {
				t.status, t.ended, t.modified = "Stopped", now, now
			}
			continue
		}
		for running < t.maxParallel && len(t.children) < t.total {
			s.startChild(t, len(t.children))
			running++
		}
		if running == 0 && len(t.children) == t.total {
			t.status, t.ended, t.modified = "Completed", now, now
		}
	}
}

func (s *Server) startChild(t *tuningJob, i int) {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.name, i)
	name := fmt.Sprintf("%s-%03d-%08x", t.name, i+1, h.Sum32())
	hp := map[string]any{}
	for k, v := range obj(t.def["StaticHyperParameters"]) {
		hp[k] = v
	}
	for ri, r := range t.ranges {
		hp[r.name] = sample(t, r, ri, i)
	}
	if t.objective != "" {
		hp["_tuning_objective_metric"] = t.objective
	}
	req := map[string]any{"HyperParameters": hp}
	for k, v := range t.def {
		if k != "StaticHyperParameters" {
			req[k] = v
		}
	}
	t.children = append(t.children, name)
	s.addJob(name, req, t.name)
}

// sample picks trial i's value for range r deterministically.
func sample(t *tuningJob, r paramRange, ri, i int) string {
	if t.grid != nil {
		return t.grid[i][ri]
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%d", t.name, i, ri)
	u := float64(h.Sum64()%1000000) / 1000000
	switch r.kind {
	case "Categorical":
		return r.values[int(u*float64(len(r.values)))]
	case "Integer":
		return strconv.Itoa(int(math.Round(r.min + u*(r.max-r.min))))
	}
	if r.scaling == "Logarithmic" {
		return strconv.FormatFloat(math.Exp(math.Log(r.min)+u*(math.Log(r.max)-math.Log(r.min))), 'g', -1, 64)
	}
	return strconv.FormatFloat(r.min+u*(r.max-r.min), 'g', -1, 64)
}

// tuningNamed decodes a request that names a tuning job and finds the job.
func (s *Server) tuningNamed(body []byte) (*tuningJob, error) {
	var in struct{ HyperParameterTuningJobName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	t, ok := s.tunings[in.HyperParameterTuningJobName]
	if !ok {
		return nil, notFound("hyperparameter tuning job " + in.HyperParameterTuningJobName)
	}
	return t, nil
}

func (s *Server) describeTuningJob(_ context.Context, body []byte) (any, error) {
	t, err := s.tuningNamed(body)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
	obj := map[string]int{"Succeeded": 0, "Pending": 0, "Failed": 0}
	var best map[string]any
	var bestVal float64
	for _, c := range t.children {
		j := s.jobs[c]
		switch j.status {
		case "Completed":
			counts["Completed"]++
		case "Failed":
			counts["NonRetryableError"]++
		case "Stopped":
			counts["Stopped"]++
		default:
			counts["InProgress"]++
		}
		sum := s.childSummary(t, j)
		switch sum["ObjectiveStatus"] {
		case "Succeeded":
			obj["Succeeded"]++
			v := j.outcome.Metrics[t.objective]
			if best == nil || (t.maximize && v > bestVal) || (!t.maximize && v < bestVal) {
				best, bestVal = sum, v
			}
		case "Failed":
			obj["Failed"]++
		default:
			obj["Pending"]++
		}
	}
	out := map[string]any{
		"HyperParameterTuningJobName":   t.name,
		"HyperParameterTuningJobArn":    t.arn,
		"HyperParameterTuningJobConfig": t.config,
		"TrainingJobDefinition":         t.def,
		"HyperParameterTuningJobStatus": t.status,
		"CreationTime":                  epoch(t.created),
		"LastModifiedTime":              epoch(t.modified),
		"TrainingJobStatusCounters":     counts,
		"ObjectiveStatusCounters":       obj,
	}
	if ws, ok := t.req["WarmStartConfig"]; ok {
		out["WarmStartConfig"] = ws
	}
	if !t.ended.IsZero() {
		out["HyperParameterTuningEndTime"] = epoch(t.ended)
	}
	if best != nil {
		out["BestTrainingJob"] = best
	}
	return out, nil
}

func (s *Server) childSummary(t *tuningJob, j *trainingJob) map[string]any {
	tuned := map[string]string{}
	for _, r := range t.ranges {
		tuned[r.name] = j.hp[r.name]
	}
	m := map[string]any{
		"TrainingJobName": j.name, "TrainingJobArn": j.arn, "TuningJobName": t.name,
		"CreationTime": epoch(j.created), "TrainingJobStatus": j.status, "TunedHyperParameters": tuned,
		"ObjectiveStatus": "Pending",
	}
	if !j.started.IsZero() {
		m["TrainingStartTime"] = epoch(j.started)
	}
	if !j.ended.IsZero() {
		m["TrainingEndTime"] = epoch(j.ended)
	}
	switch j.status {
	case "Completed", "Stopped":
		if v, ok := j.outcome.Metrics[t.objective]; ok {
			typ := "Minimize"
			if t.maximize {
				typ = "Maximize"
			}
			m["FinalHyperParameterTuningJobObjectiveMetric"] = map[string]any{"MetricName": t.objective, "Value": v, "Type": typ}
			m["ObjectiveStatus"] = "Succeeded"
		} else {
			m["ObjectiveStatus"] = "Failed"
		}
	case "Failed":
		m["ObjectiveStatus"] = "Failed"
		m["FailureReason"] = "AlgorithmError: training failed"
	}
	return m
}

func (s *Server) stopTuningJob(_ context.Context, body []byte) (any, error) {
	t, err := s.tuningNamed(body)
	if err != nil {
		return nil, err
	}
	if t.status != "InProgress" {
		return nil, &Error{Type: "ValidationException", Message: "The hyperparameter tuning job is in status " + t.status + "."}
	}
	t.status = "Stopping"
	return struct{}{}, nil
}

func (s *Server) listTuningChildren(_ context.Context, body []byte) (any, error) {
	var in struct {
		HyperParameterTuningJobName string
		MaxResults                  int
		NextToken                   string
		SortBy                      string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	t, ok := s.tunings[in.HyperParameterTuningJobName]
	if !ok {
		return nil, notFound("hyperparameter tuning job " + in.HyperParameterTuningJobName)
	}
	if in.MaxResults == 0 {
		in.MaxResults = 10
	}
	var sums []map[string]any
	for _, c := range t.children {
		sums = append(sums, s.childSummary(t, s.jobs[c]))
	}
	if in.SortBy == "FinalObjectiveMetricValue" {
		val := func(m map[string]any) float64 {
			if o, ok := m["FinalHyperParameterTuningJobObjectiveMetric"].(map[string]any); ok {
				return o["Value"].(float64)
			}
			return math.Inf(1)
		}
		sort.SliceStable(sums, func(a, b int) bool { return val(sums[a]) < val(sums[b]) })
	}
	start, _ := strconv.Atoi(in.NextToken)
	end := min(start+in.MaxResults, len(sums))
	out := map[string]any{"TrainingJobSummaries": append([]map[string]any{}, sums[min(start, end):end]...)}
	if end < len(sums) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

// TuningJobNames lists created tuning jobs.
func (s *Server) TuningJobNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.tunings)
}
