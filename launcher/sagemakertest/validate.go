package sagemakertest

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Patterns from the service model, applied as full matches like the service does.
var (
	reJobName    = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	reTuningName = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$`)
	reRoleARN    = regexp.MustCompile(`^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	reS3URI      = regexp.MustCompile(`^(https|s3)://([^/]+)/?(.*)$`)
	reChannel    = regexp.MustCompile(`^[A-Za-z0-9\.\-_]+$`)
	reTag        = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
	reEnvKey     = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

var instanceTypes = strings.Fields(`ml.m4.xlarge ml.m4.2xlarge ml.m4.4xlarge ml.m4.10xlarge ml.m4.16xlarge
ml.g4dn.xlarge ml.g4dn.2xlarge ml.g4dn.4xlarge ml.g4dn.8xlarge ml.g4dn.12xlarge ml.g4dn.16xlarge
ml.m5.large ml.m5.xlarge ml.m5.2xlarge ml.m5.4xlarge ml.m5.12xlarge ml.m5.24xlarge
ml.c4.xlarge ml.c4.2xlarge ml.c4.4xlarge ml.c4.8xlarge ml.p2.xlarge ml.p2.8xlarge ml.p2.16xlarge
ml.p3.2xlarge ml.p3.8xlarge ml.p3.16xlarge ml.p3dn.24xlarge ml.p4d.24xlarge
ml.c5.xlarge ml.c5.2xlarge ml.c5.4xlarge ml.c5.9xlarge ml.c5.18xlarge
ml.c5n.xlarge ml.c5n.2xlarge ml.c5n.4xlarge ml.c5n.9xlarge ml.c5n.18xlarge
ml.g5.xlarge ml.g5.2xlarge ml.g5.4xlarge ml.g5.8xlarge ml.g5.16xlarge ml.g5.12xlarge ml.g5.24xlarge ml.g5.48xlarge
ml.trn1.2xlarge ml.trn1.32xlarge`)

// checker collects validation messages in the service's wording.
type checker struct{ msgs []string }

func (c *checker) fail(value any, path, constraint string) {
	c.msgs = append(c.msgs, fmt.Sprintf("Value '%v' at '%s' failed to satisfy constraint: Member must %s", value, path, constraint))
}

func (c *checker) required(m map[string]any, key, path string) bool {
	if _, ok := m[key]; !ok {
		c.fail(nil, path, "not be null")
		return false
	}
	return true
}

// environment checks an Environment map: at most maxKeys variables, names and values
// of at most maxLen characters (the limits differ between training jobs and models).
func (c *checker) environment(v any, path string, maxKeys, maxLen int) {
	m := obj(v)
	if len(m) > maxKeys {
		c.fail(len(m), path, fmt.Sprintf("have length less than or equal to %d", maxKeys))
	}
	for _, k := range sortedKeys(m) {
		c.str(k, path+"."+k+".key", 1, maxLen, reEnvKey)
		c.str(m[k], path+"."+k+".value", 0, maxLen, nil)
	}
}

func (c *checker) str(v any, path string, lo, hi int, re *regexp.Regexp) {
	s, ok := v.(string)
	if !ok {
		c.fail(v, path, "be a string")
		return
	}
	n := utf8.RuneCountInString(s)
	if n < lo {
		c.fail(s, path, fmt.Sprintf("have length greater than or equal to %d", lo))
	}
	if hi > 0 && n > hi {
		c.fail(s, path, fmt.Sprintf("have length less than or equal to %d", hi))
	}
	if re != nil && !re.MatchString(s) {
		c.fail(s, path, "satisfy regular expression pattern: "+strings.TrimSuffix(re.String(), "$"))
	}
}

func (c *checker) enum(v any, path string, values ...string) {
	s, _ := v.(string)
	if !slices.Contains(values, s) {
		c.fail(v, path, "satisfy enum value set: ["+strings.Join(values, ", ")+"]")
	}
}

func (c *checker) integer(v any, path string, lo float64) (float64, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) {
		c.fail(v, path, "be an integer")
		return 0, false
	}
	if f < lo {
		c.fail(v, path, fmt.Sprintf("have value greater than or equal to %g", lo))
		return f, false
	}
	return f, true
}

// intRange checks an integer in [lo, hi].
func (c *checker) intRange(v any, path string, lo, hi float64) {
	if n, ok := c.integer(v, path, lo); ok && n > hi {
		c.fail(n, path, "have value less than or equal to "+strconv.FormatFloat(hi, 'f', -1, 64))
	}
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func validateTrainingJob(req map[string]any) []string {
	c := &checker{}
	if c.required(req, "TrainingJobName", "trainingJobName") {
		c.str(req["TrainingJobName"], "trainingJobName", 1, 63, reJobName)
	}
	c.hyperParameters(req["HyperParameters"], "hyperParameters")
	if c.required(req, "AlgorithmSpecification", "algorithmSpecification") {
		c.algorithm(obj(req["AlgorithmSpecification"]), "algorithmSpecification")
	}
	if c.required(req, "RoleArn", "roleArn") {
		c.str(req["RoleArn"], "roleArn", 20, 2048, reRoleARN)
	}
	c.trainingDefinition(req, "")
	c.tags(req["Tags"])
	if env, ok := req["Environment"]; ok {
		c.environment(env, "environment", 48, 512)
	}
	return c.msgs
}

// trainingDefinition checks the members CreateTrainingJob shares with a tuning
// job's TrainingJobDefinition; prefix is the path prefix ("" or "trainingJobDefinition.").
func (c *checker) trainingDefinition(req map[string]any, prefix string) {
	c.security(req, prefix)
	if in, ok := req["InputDataConfig"]; ok {
		c.channels(list(in), prefix+"inputDataConfig")
	}
	if c.required(req, "OutputDataConfig", prefix+"outputDataConfig") {
		o := obj(req["OutputDataConfig"])
		if c.required(o, "S3OutputPath", prefix+"outputDataConfig.s3OutputPath") {
			c.str(o["S3OutputPath"], prefix+"outputDataConfig.s3OutputPath", 0, 1024, reS3URI)
		}
	}
	if c.required(req, "ResourceConfig", prefix+"resourceConfig") {
		r := obj(req["ResourceConfig"])
		p := prefix + "resourceConfig"
		if c.required(r, "VolumeSizeInGB", p+".volumeSizeInGB") {
			c.integer(r["VolumeSizeInGB"], p+".volumeSizeInGB", 1)
		}
		if _, groups := r["InstanceGroups"]; !groups {
			if c.required(r, "InstanceType", p+".instanceType") {
				c.enum(r["InstanceType"], p+".instanceType", instanceTypes...)
			}
			if c.required(r, "InstanceCount", p+".instanceCount") {
				c.integer(r["InstanceCount"], p+".instanceCount", 1)
			}
		}
		if v, ok := r["KeepAlivePeriodInSeconds"]; ok {
			if f, ok := c.integer(v, p+".keepAlivePeriodInSeconds", 0); ok && f > 3600 {
				c.fail(v, p+".keepAlivePeriodInSeconds", "have value less than or equal to 3600")
			}
		}
	}
	var runtime, wait float64
	if c.required(req, "StoppingCondition", prefix+"stoppingCondition") {
		sc := obj(req["StoppingCondition"])
		if v, ok := sc["MaxRuntimeInSeconds"]; ok {
			runtime, _ = c.integer(v, prefix+"stoppingCondition.maxRuntimeInSeconds", 1)
		}
		if v, ok := sc["MaxWaitTimeInSeconds"]; ok {
			wait, _ = c.integer(v, prefix+"stoppingCondition.maxWaitTimeInSeconds", 1)
		}
	}
	if spot, _ := req["EnableManagedSpotTraining"].(bool); spot {
		if wait == 0 {
			c.fail(nil, prefix+"stoppingCondition.maxWaitTimeInSeconds", "be set when managed spot training is enabled")
		} else if wait < runtime {
			c.fail(wait, prefix+"stoppingCondition.maxWaitTimeInSeconds", fmt.Sprintf("be greater than or equal to maxRuntimeInSeconds (%g)", runtime))
		}
	}
	if cp, ok := req["CheckpointConfig"]; ok {
		m := obj(cp)
		if c.required(m, "S3Uri", prefix+"checkpointConfig.s3Uri") {
			c.str(m["S3Uri"], prefix+"checkpointConfig.s3Uri", 0, 1024, reS3URI)
		}
	}
}

func (c *checker) hyperParameters(v any, path string) {
	if v == nil {
		return
	}
	m := obj(v)
	if len(m) > 100 {
		c.fail(len(m), path, "have length less than or equal to 100")
	}
	for _, k := range sortedKeys(m) {
		c.str(k, path+"."+k+".key", 0, 256, nil)
		c.str(m[k], path+"."+k+".value", 0, 2500, nil)
	}
}

func (c *checker) algorithm(a map[string]any, path string) {
	if c.required(a, "TrainingInputMode", path+".trainingInputMode") {
		c.enum(a["TrainingInputMode"], path+".trainingInputMode", "Pipe", "File", "FastFile")
	}
	_, img := a["TrainingImage"]
	_, alg := a["AlgorithmName"]
	if img == alg {
		c.fail(nil, path+".trainingImage", "be set, exclusive of algorithmName")
	}
	if img {
		c.str(a["TrainingImage"], path+".trainingImage", 1, 255, nil)
	}
	defs := list(a["MetricDefinitions"])
	if len(defs) > 40 {
		c.fail(len(defs), path+".metricDefinitions", "have length less than or equal to 40")
	}
	for i, d := range defs {
		m := obj(d)
		c.str(m["Name"], fmt.Sprintf("%s.metricDefinitions.%d.member.name", path, i+1), 1, 255, nil)
		c.str(m["Regex"], fmt.Sprintf("%s.metricDefinitions.%d.member.regex", path, i+1), 1, 500, nil)
	}
}

func (c *checker) channels(chs []any, path string) {
	if len(chs) < 1 || len(chs) > 20 {
		c.fail(len(chs), path, "have length between 1 and 20")
	}
	seen := map[string]bool{}
	for i, ch := range chs {
		m := obj(ch)
		p := fmt.Sprintf("%s.%d.member", path, i+1)
		name, _ := m["ChannelName"].(string)
		c.str(m["ChannelName"], p+".channelName", 1, 64, reChannel)
		if seen[name] {
			c.fail(name, p+".channelName", "be unique")
		}
		seen[name] = true
		if v, ok := m["CompressionType"]; ok {
			c.enum(v, p+".compressionType", "None", "Gzip")
		}
		if v, ok := m["InputMode"]; ok {
			c.enum(v, p+".inputMode", "Pipe", "File", "FastFile")
		}
		s3 := obj(obj(m["DataSource"])["S3DataSource"])
		if s3 == nil {
			c.fail(nil, p+".dataSource.s3DataSource", "not be null")
			continue
		}
		c.enum(s3["S3DataType"], p+".dataSource.s3DataSource.s3DataType", "ManifestFile", "S3Prefix", "AugmentedManifestFile")
		c.str(s3["S3Uri"], p+".dataSource.s3DataSource.s3Uri", 0, 1024, reS3URI)
		if v, ok := s3["S3DataDistributionType"]; ok {
			c.enum(v, p+".dataSource.s3DataSource.s3DataDistributionType", "FullyReplicated", "ShardedByS3Key")
		}
	}
}

func (c *checker) tags(v any) {
	tags := list(v)
	if len(tags) > 50 {
		c.fail(len(tags), "tags", "have length less than or equal to 50")
	}
	for i, t := range tags {
		m := obj(t)
		c.str(m["Key"], fmt.Sprintf("tags.%d.member.key", i+1), 1, 128, reTag)
		c.str(m["Value"], fmt.Sprintf("tags.%d.member.value", i+1), 0, 256, reTag)
	}
}
