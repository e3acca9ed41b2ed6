package cli

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/container/metricdef"
	"github.com/blueblood/blueblood/pipeline"
)

// kvFlag is a repeatable KEY=VALUE flag.
// checkTags validates --tag KEY=VALUE items and returns them as request tags.
func checkTags(items [][2]string) ([]types.Tag, error) {
	var tags []types.Tag
	seen := map[string]bool{}
	for _, kv := range items {
		if err := checkTag("--tag", kv[0], kv[1]); err != nil {
			return nil, err
		}
		if seen[kv[0]] {
			return nil, usagef("--tag %s: given twice; each key once", kv[0])
		}
		seen[kv[0]] = true
		tags = append(tags, types.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	return tags, nil
}

type kvFlag struct {
	items [][2]string
}

func (f *kvFlag) String() string { return "" }

func (f *kvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("expected KEY=VALUE")
	}
	f.items = append(f.items, [2]string{k, v})
	return nil
}

// hpValues holds hyperparameters set on the command line, each validated against
// the trainer's specs when its flag is parsed.
type hpValues struct {
	values map[string]string
	by     map[string]string // name → the flag that set it, for error messages
}

func (h *hpValues) set(flag string, spec hparams.Spec, raw string) error {
	v, err := spec.Check(raw)
	if err != nil {
		return err
	}
	if h.values == nil {
		h.values, h.by = map[string]string{}, map[string]string{}
	}
	if prev, ok := h.by[spec.Name]; ok && prev != flag {
		return fmt.Errorf("%s is already set by %s", spec.Name, prev)
	}
	h.values[spec.Name] = v
	h.by[spec.Name] = flag
	return nil
}

// flag adds --<alias> for spec s: its usage line and its check are the spec's.
func (h *hpValues) flag(fs *flag.FlagSet, s hparams.Spec) {
	fs.Func(s.Alias, fmt.Sprintf("%s (%s %s, default %s)", s.Doc, s.Kind, s.RangeText(), s.Default), func(v string) error {
		return h.set("--"+s.Alias, s, v)
	})
}

// register adds the tunable hyperparameter flags (--epochs, --learning-rate, ...)
// and --hp KEY=VALUE for every other hyperparameter the trainer accepts.
func (h *hpValues) register(fs *flag.FlagSet) {
	for _, s := range hparams.Specs {
		if s.Tunable {
			h.flag(fs, s)
		}
	}
	fs.Func("hp", "hyperparameter `KEY=VALUE` (repeatable; any of: "+strings.Join(hparams.Names(), ", ")+")", func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("expected KEY=VALUE")
		}
		if hparams.Ignored(k) {
			return fmt.Errorf("%s is reserved for SageMaker", k)
		}
		s, ok := hparams.Lookup(k)
		if !ok {
			return hparams.UnknownError(k)
		}
		return h.set("--hp", s, v)
	})
}

// jobFlags are the flags train, sweep and tune share: what to run, where, with what data.
type jobFlags struct {
	image, role, output, bucket string
	channelPaths                [3]string // train, validation, test
	instanceType                string
	instanceCount, volumeSize   int
	maxRuntime, maxWait         string
	keepAlive                   int
	spot                        bool
	checkpoint, inputMode       string
	env, tags                   kvFlag
	hp                          hpValues
	retries                     int
	sec                         securityFlags
	e                           *Env
	fs                          *flag.FlagSet
}

// channelNames are the training channels, in the order of the --train, --validation and
// --test flags.
var channelNames = pipeline.Channels

func (f *jobFlags) register(e *Env, fs *flag.FlagSet) {
	f.e, f.fs = e, fs
	fs.StringVar(&f.image, "image", "", "training image URI (required; default from the SageMaker config file's CustomParameters "+customParamsPrefix+"Image)")
	fs.StringVar(&f.role, "role", "", "IAM role ARN for SageMaker (required; default from the SageMaker config file)")
	fs.StringVar(&f.output, "output", "", "S3 URI for model artifacts (default s3://BUCKET/PREFIX/output when --bucket is set)")
	fs.StringVar(&f.bucket, "bucket", "", "`s3://BUCKET[/PREFIX]` where local channel paths are uploaded (default from the SageMaker config file's Session.DefaultS3Bucket)")
	for i, ch := range channelNames {
		fs.StringVar(&f.channelPaths[i], ch, "", ch+" channel: S3 URI or local file/folder (uploaded under --bucket)")
	}
	fs.StringVar(&f.instanceType, "instance-type", "ml.m5.xlarge", "training instance type")
	fs.IntVar(&f.instanceCount, "instance-count", 1, "number of instances (1: the trainer runs on one instance)")
	fs.IntVar(&f.volumeSize, "volume-size", 30, "EBS volume size in GB (holds /opt/ml and the data)")
	fs.StringVar(&f.maxRuntime, "max-runtime", "86400", "stop the job after this many seconds (or a duration like 2h)")
	fs.BoolVar(&f.spot, "spot", false, "use managed spot training (needs --checkpoint)")
	fs.StringVar(&f.maxWait, "max-wait", "", "with --spot: longest wait for spot capacity plus runtime, ≥ --max-runtime (default --max-runtime)")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "S3 URI synced with /opt/ml/checkpoints (required with --spot)")
	fs.StringVar(&f.inputMode, "input-mode", "File", "File or FastFile")
	fs.IntVar(&f.keepAlive, "keep-alive", 0, "keep the instance in a warm pool this many `SECONDS` (0-3600) after the job, for the next matching job")
	fs.Var(&f.env, "env", "container environment `KEY=VALUE` (repeatable)")
	fs.Var(&f.tags, "tag", "job tag `KEY=VALUE` (repeatable)")
	fs.IntVar(&f.retries, "retries", 0, "retry the job up to `N` times (1-30) when SageMaker fails it with an internal error (RetryStrategy)")
	f.sec.register(fs, reqTraining)
	f.hp.register(fs)
}

// jobSpec is the validated form of jobFlags.
type jobSpec struct {
	image, role, output string
	bucket, prefix      string
	channelPaths        [3]string
	instanceType        string
	instanceCount       int32
	volumeSize          int32
	maxRuntime, maxWait int32
	keepAlive           int32
	spot                bool
	retries             int32
	sec                 *security
	origins             []string // where defaults came from, for --dry-run
	checkpoint          string
	inputMode           types.TrainingInputMode
	env                 map[string]string
	tags                []types.Tag
	hp                  map[string]string // set on the command line (tunables default from the specs)
	channels            []types.Channel   // filled by resolveChannels
}

// spec validates every flag; errors name the flag and nothing is uploaded or submitted.
func (f *jobFlags) spec() (*jobSpec, error) {
	s := &jobSpec{channelPaths: f.channelPaths, spot: f.spot, env: map[string]string{}, hp: map[string]string{}}
	if err := f.defaults(s); err != nil {
		return nil, err
	}
	s.image, s.role, s.instanceType = f.image, f.role, f.instanceType
	if err := checkImage("--image", f.image); err != nil {
		return nil, err
	}
	if err := checkRole("--role", f.role); err != nil {
		return nil, err
	}
	if f.bucket != "" {
		b := f.bucket
		if !strings.HasPrefix(b, "s3://") {
			b = "s3://" + b
		}
		if err := checkS3URI("--bucket", b); err != nil {
			return nil, err
		}
		m := reS3URI.FindStringSubmatch(b)
		s.bucket, s.prefix = m[1], strings.Trim(m[2], "/")
	}
	s.output = f.output
	if s.output == "" {
		if s.bucket == "" {
			return nil, usagef("--output is required: an S3 URI for model artifacts (or give --bucket)")
		}
		s.output = "s3://" + joinKey(s.bucket, s.prefix, "output")
	}
	if err := checkS3URI("--output", s.output); err != nil {
		return nil, err
	}
	haveTrain := false
	for i, p := range f.channelPaths {
		flag := "--" + channelNames[i]
		switch {
		case p == "":
			continue
		case strings.HasPrefix(p, "s3://"):
			if err := checkS3URI(flag, p); err != nil {
				return nil, err
			}
		case strings.Contains(p, "://"):
			return nil, usagef("%s %q: expected an s3:// URI or a local path", flag, p)
		default:
			if _, err := os.Stat(p); err != nil {
				return nil, usagef("%s %q: local path does not exist", flag, p)
			}
			if s.bucket == "" {
				return nil, usagef("%s %q: a local path needs --bucket to upload it to (or give an s3:// URI)", flag, p)
			}
		}
		haveTrain = haveTrain || i == 0
	}
	if !haveTrain {
		return nil, usagef("--train is required: an S3 URI or a local file/folder with the training data")
	}
	if !reInstance.MatchString(f.instanceType) {
		return nil, usagef("--instance-type %q: expected an instance type like ml.m5.xlarge", f.instanceType)
	}
	if f.instanceCount != 1 {
		// The trainer refuses a resourceconfig.json with more than one host; a job
		// with more would be paid for and fail.
		return nil, usagef("--instance-count %d: expected 1; the trainer runs on a single instance (multi-host training does not exist yet)", f.instanceCount)
	}
	if f.volumeSize < 1 || f.volumeSize > 16384 {
		return nil, usagef("--volume-size %d: expected 1 to 16384 GB", f.volumeSize)
	}
	s.instanceCount, s.volumeSize = int32(f.instanceCount), int32(f.volumeSize)
	if f.keepAlive < 0 || f.keepAlive > maxKeepAlive {
		return nil, usagef("--keep-alive %d: expected 0 to %d seconds", f.keepAlive, maxKeepAlive)
	}
	s.keepAlive = int32(f.keepAlive)
	var err error
	if s.maxRuntime, err = parseSeconds("--max-runtime", f.maxRuntime); err != nil {
		return nil, err
	}
	switch {
	case f.spot && f.checkpoint == "":
		return nil, usagef("--spot needs --checkpoint: an S3 URI to save checkpoints to, so an interrupted job can resume")
	case !f.spot && f.maxWait != "":
		return nil, usagef("--max-wait applies only with --spot")
	case f.spot && f.maxWait == "":
		s.maxWait = s.maxRuntime
	case f.spot:
		if s.maxWait, err = parseSeconds("--max-wait", f.maxWait); err != nil {
			return nil, err
		}
		if s.maxWait < s.maxRuntime {
			return nil, usagef("--max-wait %d s: expected at least --max-runtime (%d s)", s.maxWait, s.maxRuntime)
		}
	}
	if f.checkpoint != "" {
		s.checkpoint = strings.TrimRight(f.checkpoint, "/") + "/"
		if err := checkS3URI("--checkpoint", s.checkpoint); err != nil {
			return nil, err
		}
	}
	switch f.inputMode {
	case "File", "FastFile":
		s.inputMode = types.TrainingInputMode(f.inputMode)
	default:
		return nil, usagef("--input-mode %q: expected File or FastFile (the trainer reads files)", f.inputMode)
	}
	if err := checkEnv(f.env.items, envLimits{vars: maxEnv, name: 512, value: 512}); err != nil {
		return nil, err
	}
	for _, kv := range f.env.items {
		s.env[kv[0]] = kv[1]
	}
	tags, err := checkTags(f.tags.items)
	if err != nil {
		return nil, err
	}
	s.tags = s.sec.withTags(append(s.tags, tags...))
	if f.retries < 0 || f.retries > maxRetryAttempts {
		return nil, usagef("--retries %d: expected 0 to %d", f.retries, maxRetryAttempts)
	}
	s.retries = int32(f.retries)
	for _, sp := range hparams.Specs {
		if sp.Tunable {
			s.hp[sp.Name] = sp.Default
		}
	}
	for k, v := range f.hp.values {
		s.hp[k] = v
	}
	return s, nil
}

func joinKey(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}

// metricDefinitions are the trainer's own regexes (one source of truth).
func metricDefinitions() []types.MetricDefinition {
	var out []types.MetricDefinition
	for _, d := range metricdef.Definitions() {
		out = append(out, types.MetricDefinition{Name: aws.String(d.Name), Regex: aws.String(d.Regex)})
	}
	return out
}

// defaultTags are added to every job: the launcher's git commit when known plus extra.
func (e *Env) defaultTags(extra ...types.Tag) []types.Tag {
	var out []types.Tag
	if e.GitCommit != nil {
		if c := e.GitCommit(); c != "" && reTagText.MatchString(c) {
			out = append(out, types.Tag{Key: aws.String("blueblood:git-commit"), Value: aws.String(c)})
		}
	}
	return append(out, extra...)
}

// trainingInput builds one CreateTrainingJob request.
func (s *jobSpec) trainingInput(name string, hp map[string]string, tags []types.Tag) *sagemaker.CreateTrainingJobInput {
	in := &sagemaker.CreateTrainingJobInput{
		TrainingJobName: aws.String(name),
		AlgorithmSpecification: &types.AlgorithmSpecification{
			TrainingImage:     aws.String(s.image),
			TrainingInputMode: s.inputMode,
			MetricDefinitions: metricDefinitions(),
		},
		RoleArn:          aws.String(s.role),
		HyperParameters:  hp,
		InputDataConfig:  s.channels,
		OutputDataConfig: &types.OutputDataConfig{S3OutputPath: aws.String(s.output)},
		ResourceConfig: &types.ResourceConfig{
			InstanceType:   types.TrainingInstanceType(s.instanceType),
			InstanceCount:  aws.Int32(s.instanceCount),
			VolumeSizeInGB: aws.Int32(s.volumeSize),
		},
		StoppingCondition: &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(s.maxRuntime)},
		Tags:              append(append([]types.Tag(nil), tags...), s.tags...),
	}
	if s.keepAlive > 0 {
		in.ResourceConfig.KeepAlivePeriodInSeconds = aws.Int32(s.keepAlive)
	}
	if s.spot {
		in.EnableManagedSpotTraining = aws.Bool(true)
		in.StoppingCondition.MaxWaitTimeInSeconds = aws.Int32(s.maxWait)
	}
	if s.checkpoint != "" {
		in.CheckpointConfig = &types.CheckpointConfig{S3Uri: aws.String(s.checkpoint)}
	}
	s.sec.applyTraining(in)
	if s.retries > 0 {
		in.RetryStrategy = &types.RetryStrategy{MaximumRetryAttempts: aws.Int32(s.retries)}
	}
	if len(s.env) > 0 {
		in.Environment = s.env
	}
	return in
}

// checkHyperParameters enforces the API's count and length limits on a final map.
func checkHyperParameters(flag string, hp map[string]string) error {
	if len(hp) > maxHyperParameters {
		return usagef("%s: %d hyperparameters, at most %d allowed", flag, len(hp), maxHyperParameters)
	}
	keys := make([]string, 0, len(hp))
	for k := range hp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(k) > maxHPKeyLen {
			return usagef("%s: hyperparameter name %.20q... longer than %d characters", flag, k, maxHPKeyLen)
		}
		if len(hp[k]) > maxHPValueLen {
			return usagef("%s: hyperparameter %s value longer than %d characters", flag, k, maxHPValueLen)
		}
	}
	return nil
}

// checkTagCount enforces the 50-tag limit and unique keys after default tags are added.
func checkTagCount(tags []types.Tag) error {
	if len(tags) > maxTags {
		return usagef("--tag: %d tags including the launcher's own, at most %d allowed", len(tags), maxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == nil {
			continue // a placeholder for a tag added later
		}
		if seen[*t.Key] {
			return usagef("--tag %s: the launcher sets this key itself; choose another", *t.Key)
		}
		seen[*t.Key] = true
	}
	return nil
}
