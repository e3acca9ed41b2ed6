package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/container/metricdef"
)

type tuneCmd struct {
	e             *Env
	job           jobFlags
	ranges        rangeList
	strategy      string
	objective     string
	objectiveType string
	maxJobs       int
	maxParallel   int
	earlyStopping string
	warmStart     rangeList
	warmStartType string
	hyperbandMin  int
	hyperbandMax  int
	stop          tuneStopFlags
	name          string
	baseName      string
	dryRun        bool
	wait          bool
}

func newTune(e *Env, fs *flag.FlagSet) unit {
	c := &tuneCmd{e: e}
	c.job.register(e, fs)
	fs.Var(&c.ranges, "range", "tuned hyperparameter: `NAME=MIN:MAX[:linear|log|reverse-log]` or NAME=V1,V2,... (repeatable)")
	fs.StringVar(&c.strategy, "strategy", "Bayesian", "search strategy: Bayesian, Random, Hyperband or Grid (Grid takes value lists only)")
	fs.StringVar(&c.objective, "objective", metricdef.Objective, "objective metric (one the trainer prints: "+strings.Join(metricdef.Names, ", ")+")")
	fs.StringVar(&c.objectiveType, "objective-type", "Minimize", "Minimize or Maximize")
	fs.IntVar(&c.maxJobs, "max-jobs", 0, "training jobs in total (default 10; Grid: the number of combinations)")
	fs.IntVar(&c.maxParallel, "max-parallel", 2, "training jobs at the same time")
	fs.StringVar(&c.earlyStopping, "early-stopping", "Off", "Off or Auto (Auto stops poor trials early; not with Hyperband)")
	fs.Var(&c.warmStart, "warm-start", "parent tuning job `NAME` to start from (repeatable, up to 5)")
	fs.StringVar(&c.warmStartType, "warm-start-type", "IdenticalDataAndAlgorithm", "IdenticalDataAndAlgorithm or TransferLearning")
	fs.IntVar(&c.hyperbandMin, "hyperband-min", 0, "with Hyperband: fewest epochs a trial gets")
	fs.IntVar(&c.hyperbandMax, "hyperband-max", 0, "with Hyperband: most epochs a trial gets")
	c.stop.register(fs)
	fs.StringVar(&c.name, "name", "", "tuning job name, at most 32 characters (default: generated)")
	fs.StringVar(&c.baseName, "base-name", "blueblood", "start of the generated name")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the CreateHyperParameterTuningJob request as JSON and call nothing")
	fs.BoolVar(&c.wait, "wait", false, "follow the tuning job, then print the best job and a table of trials")
	return c
}

func (c *tuneCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("tune: unexpected argument %q", args[0])
	}
	spec, err := c.job.spec()
	if err != nil {
		return err
	}
	in, err := c.request(spec)
	if err != nil {
		return err
	}
	if err := spec.resolveChannels(ctx, c.e, c.dryRun); err != nil {
		return err
	}
	in.TrainingJobDefinition.InputDataConfig = spec.channels
	if c.dryRun {
		printOrigins(c.e.Stderr, spec.allOrigins())
		return printDryRun(ctx, c.e, func(cl *sagemaker.Client) error {
			_, err := cl.CreateHyperParameterTuningJob(ctx, in)
			return err
		})
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	name := aws.ToString(in.HyperParameterTuningJobName)
	var out *sagemaker.CreateHyperParameterTuningJobOutput
	err = c.e.newBackoff().do(ctx, name, func() error {
		var err error
		out, err = cl.SageMaker.CreateHyperParameterTuningJob(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("create tuning job %s: %w", name, err)
	}
	fmt.Fprintf(c.e.Stdout, "submitted tuning job %s\n  %s\n", name, aws.ToString(out.HyperParameterTuningJobArn))
	if !c.wait {
		fmt.Fprintf(c.e.Stdout, "follow it with: launcher status --tuning %s\n", name)
		return nil
	}
	return c.follow(ctx, cl, name)
}

// request validates the tuning flags and builds the request (channels are
// filled in later, after uploads).
func (c *tuneCmd) request(spec *jobSpec) (*sagemaker.CreateHyperParameterTuningJobInput, error) {
	strategy := types.HyperParameterTuningJobStrategyType(c.strategy)
	if !slices.Contains(strategy.Values(), strategy) {
		return nil, usagef("--strategy %q: expected Bayesian, Random, Hyperband or Grid", c.strategy)
	}
	if !slices.Contains(metricdef.Names, c.objective) {
		return nil, usagef("--objective %q: expected a metric the trainer prints: %s", c.objective, strings.Join(metricdef.Names, ", "))
	}
	if c.objectiveType != "Minimize" && c.objectiveType != "Maximize" {
		return nil, usagef("--objective-type %q: expected Minimize or Maximize", c.objectiveType)
	}
	if c.earlyStopping != "Off" && c.earlyStopping != "Auto" {
		return nil, usagef("--early-stopping %q: expected Off or Auto", c.earlyStopping)
	}
	if strategy == types.HyperParameterTuningJobStrategyTypeHyperband && c.earlyStopping == "Auto" {
		return nil, usagef("--early-stopping Auto: Hyperband has its own early stopping; use Off")
	}
	if (c.hyperbandMin != 0 || c.hyperbandMax != 0) && strategy != types.HyperParameterTuningJobStrategyTypeHyperband {
		return nil, usagef("--hyperband-min/--hyperband-max apply only with --strategy Hyperband")
	}
	if c.hyperbandMin < 0 || c.hyperbandMax < 0 || (c.hyperbandMin > 0 && c.hyperbandMax > 0 && c.hyperbandMin > c.hyperbandMax) {
		return nil, usagef("--hyperband-min %d / --hyperband-max %d: expected 1 ≤ min ≤ max", c.hyperbandMin, c.hyperbandMax)
	}
	if c.maxParallel < 1 || c.maxParallel > 100 {
		return nil, usagef("--max-parallel %d: expected 1 to 100", c.maxParallel)
	}
	if spec.keepAlive > 0 {
		return nil, usagef("--keep-alive applies to train and sweep; a tuning job's trials do not use warm pools")
	}
	if len(c.ranges.items) == 0 {
		return nil, usagef("tune needs at least one --range NAME=MIN:MAX or NAME=V1,V2,...")
	}
	if len(c.ranges.items) > 30 {
		return nil, usagef("--range: %d ranges, at most 30 allowed", len(c.ranges.items))
	}
	pr := &types.ParameterRanges{}
	tuned := map[string]hpRange{}
	combos := 1
	for _, t := range c.ranges.items {
		r, err := parseRange("--range", t)
		if err != nil {
			return nil, err
		}
		if _, dup := tuned[r.name]; dup {
			return nil, usagef("--range: %s appears twice", r.name)
		}
		if f, ok := c.job.hp.by[r.name]; ok {
			return nil, usagef("--range: %s is also set by %s; a tuned hyperparameter cannot be static too", r.name, f)
		}
		tuned[r.name] = r
		switch r.kind {
		case kindCategory:
			pr.CategoricalParameterRanges = append(pr.CategoricalParameterRanges, types.CategoricalParameterRange{Name: aws.String(r.name), Values: r.values})
			if strategy != types.HyperParameterTuningJobStrategyTypeGrid {
				break
			}
			var fits bool
			if combos, fits = gridGrows(combos, len(r.values), maxGridTuningJobs); !fits {
				return nil, usagef("--range: the grid has more than %d combinations (with %s), at most %d allowed", maxGridTuningJobs, r.name, maxGridTuningJobs)
			}
		case kindInteger:
			if strategy == types.HyperParameterTuningJobStrategyTypeGrid {
				return nil, usagef("--range %q: Grid takes value lists (NAME=V1,V2,...), not MIN:MAX", t)
			}
			pr.IntegerParameterRanges = append(pr.IntegerParameterRanges, types.IntegerParameterRange{Name: aws.String(r.name),
				MinValue: aws.String(r.min), MaxValue: aws.String(r.max), ScalingType: types.HyperParameterScalingType(r.scaling)})
		default:
			if strategy == types.HyperParameterTuningJobStrategyTypeGrid {
				return nil, usagef("--range %q: Grid takes value lists (NAME=V1,V2,...), not MIN:MAX", t)
			}
			pr.ContinuousParameterRanges = append(pr.ContinuousParameterRanges, types.ContinuousParameterRange{Name: aws.String(r.name),
				MinValue: aws.String(r.min), MaxValue: aws.String(r.max), ScalingType: types.HyperParameterScalingType(r.scaling)})
		}
	}
	limits := &types.ResourceLimits{MaxParallelTrainingJobs: aws.Int32(int32(c.maxParallel))}
	switch {
	case strategy == types.HyperParameterTuningJobStrategyTypeGrid:
		if c.maxJobs != 0 && c.maxJobs != combos {
			return nil, usagef("--max-jobs %d: Grid runs every combination (%d); omit --max-jobs or give %d", c.maxJobs, combos, combos)
		}
	case c.maxJobs == 0:
		limits.MaxNumberOfTrainingJobs = aws.Int32(10)
	default:
		limit := maxTuningJobs
		if strategy == types.HyperParameterTuningJobStrategyTypeRandom {
			limit = maxSweepJobs
		}
		if c.maxJobs < 1 || c.maxJobs > limit {
			return nil, usagef("--max-jobs %d: expected 1 to %d for %s", c.maxJobs, limit, strategy)
		}
		limits.MaxNumberOfTrainingJobs = aws.Int32(int32(c.maxJobs))
	}
	name := c.name
	if name != "" {
		if err := checkName("--name", name, true); err != nil {
			return nil, err
		}
	} else {
		name = composeName(c.baseName, tuningStamp(c.e.Now()), maxTuningName)
	}
	static := map[string]string{}
	for k, v := range spec.hp {
		if _, ok := tuned[k]; !ok {
			static[k] = v
		}
	}
	if err := checkHyperParameters("--hp", static); err != nil {
		return nil, err
	}
	tags := c.e.defaultTags()
	if err := checkTagCount(append(tags, spec.tags...)); err != nil {
		return nil, err
	}
	cfg := &types.HyperParameterTuningJobConfig{
		Strategy: strategy,
		HyperParameterTuningJobObjective: &types.HyperParameterTuningJobObjective{
			Type: types.HyperParameterTuningJobObjectiveType(c.objectiveType), MetricName: aws.String(c.objective)},
		ResourceLimits:               limits,
		ParameterRanges:              pr,
		TrainingJobEarlyStoppingType: types.TrainingJobEarlyStoppingType(c.earlyStopping),
	}
	hbMax, err := c.hyperbandMaxResource(strategy, static, tuned)
	if err != nil {
		return nil, err
	}
	if c.hyperbandMin > 0 || hbMax > 0 {
		hb := &types.HyperbandStrategyConfig{}
		if c.hyperbandMin > 0 {
			hb.MinResource = aws.Int32(int32(c.hyperbandMin))
		}
		if hbMax > 0 {
			hb.MaxResource = aws.Int32(int32(hbMax))
		}
		cfg.StrategyConfig = &types.HyperParameterTuningJobStrategyConfig{HyperbandStrategyConfig: hb}
	}
	tj := spec.trainingInput("unused", nil, nil)
	def := &types.HyperParameterTrainingJobDefinition{
		AlgorithmSpecification: &types.HyperParameterAlgorithmSpecification{
			TrainingImage:     tj.AlgorithmSpecification.TrainingImage,
			TrainingInputMode: tj.AlgorithmSpecification.TrainingInputMode,
			MetricDefinitions: tj.AlgorithmSpecification.MetricDefinitions,
		},
		RoleArn:                   tj.RoleArn,
		StaticHyperParameters:     static,
		OutputDataConfig:          tj.OutputDataConfig,
		ResourceConfig:            tj.ResourceConfig,
		StoppingCondition:         tj.StoppingCondition,
		EnableManagedSpotTraining: tj.EnableManagedSpotTraining,
		CheckpointConfig:          tj.CheckpointConfig,
		EnableNetworkIsolation:    tj.EnableNetworkIsolation,
		Environment:               tj.Environment,
		VpcConfig:                 tj.VpcConfig,
		RetryStrategy:             tj.RetryStrategy,

		EnableInterContainerTrafficEncryption: tj.EnableInterContainerTrafficEncryption,
	}
	in := &sagemaker.CreateHyperParameterTuningJobInput{
		HyperParameterTuningJobName:   aws.String(name),
		HyperParameterTuningJobConfig: cfg,
		TrainingJobDefinition:         def,
		Tags:                          append(tags, spec.tags...),
	}
	if err := c.stop.apply(in, strategy); err != nil {
		return nil, err
	}
	if len(c.warmStart.items) > 0 {
		if len(c.warmStart.items) > 5 {
			return nil, usagef("--warm-start: %d parents, at most 5 allowed", len(c.warmStart.items))
		}
		ws := &types.HyperParameterTuningJobWarmStartConfig{WarmStartType: types.HyperParameterTuningJobWarmStartType(c.warmStartType)}
		if !slices.Contains(ws.WarmStartType.Values(), ws.WarmStartType) {
			return nil, usagef("--warm-start-type %q: expected IdenticalDataAndAlgorithm or TransferLearning", c.warmStartType)
		}
		for _, p := range c.warmStart.items {
			if err := checkName("--warm-start", p, true); err != nil {
				return nil, err
			}
			ws.ParentHyperParameterTuningJobs = append(ws.ParentHyperParameterTuningJobs, types.ParentHyperParameterTuningJob{HyperParameterTuningJobName: aws.String(p)})
		}
		in.WarmStartConfig = ws
	}
	return in, nil
}

// maxHyperbandResource is the service's limit on Hyperband's MaxResource (epochs).
const maxHyperbandResource = 20000

// hyperbandMaxResource applies the service's rule: without MaxResource it infers
// it from a static epochs and refuses the job when there is none. With epochs
// tuned, the range's maximum is the most epochs a trial can run, so it is sent as
// MaxResource; 0 means the service infers it from the static epochs.
func (c *tuneCmd) hyperbandMaxResource(strategy types.HyperParameterTuningJobStrategyType, static map[string]string, tuned map[string]hpRange) (int, error) {
	if strategy != types.HyperParameterTuningJobStrategyTypeHyperband {
		return 0, nil
	}
	if c.hyperbandMax > maxHyperbandResource {
		return 0, usagef("--hyperband-max %d: expected 1 to %d epochs", c.hyperbandMax, maxHyperbandResource)
	}
	send, most, from := c.hyperbandMax, c.hyperbandMax, "--hyperband-max"
	if most == 0 {
		e, static := static["epochs"]
		r, ranged := tuned["epochs"]
		switch {
		case static:
			most, from = atoiOr0(e), "the epochs a trial runs"
		case ranged && r.kind == kindInteger:
			most, from = atoiOr0(r.max), "the maximum of --range epochs"
			send = most
			fmt.Fprintf(c.e.Stderr, "Hyperband: MaxResource %d epochs, the maximum of --range epochs\n", most)
		default:
			return 0, usagef("Hyperband needs --hyperband-max: epochs is tuned by --range, so the service cannot infer MaxResource from a static epochs")
		}
		if most > maxHyperbandResource {
			return 0, usagef("epochs %d: Hyperband's MaxResource (%s) is at most %d", most, from, maxHyperbandResource)
		}
	}
	if c.hyperbandMin > most {
		return 0, usagef("--hyperband-min %d: expected at most %s (%d)", c.hyperbandMin, from, most)
	}
	return send, nil
}

func atoiOr0(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func tuningTerminal(s types.HyperParameterTuningJobStatus) bool {
	switch s {
	case types.HyperParameterTuningJobStatusCompleted, types.HyperParameterTuningJobStatusFailed, types.HyperParameterTuningJobStatusStopped:
		return true
	}
	return false
}

// follow polls the tuning job until it ends (the SDK has no waiter for it),
// then prints the best job and every trial.
func (c *tuneCmd) follow(ctx context.Context, cl *Clients, name string) error {
	last := ""
	for {
		out, err := c.e.describeTuning(ctx, cl, name)
		if err != nil {
			return err
		}
		if line := countersText(out); line != last {
			fmt.Fprintf(c.e.Stderr, "%s  %s\n", out.HyperParameterTuningJobStatus, line)
			last = line
		}
		if tuningTerminal(out.HyperParameterTuningJobStatus) {
			writeTuningSummary(c.e.Stdout, out)
			rs, err := c.e.tuningTrials(ctx, cl, name, c.objective)
			if err != nil {
				return err
			}
			var keys []string
			for _, t := range c.ranges.items {
				r, _ := parseRange("--range", t)
				keys = append(keys, r.name)
			}
			if err := writeLeaderboardFiles(c.e, name, c.objective, keys, rs); err != nil {
				return err
			}
			if out.HyperParameterTuningJobStatus != types.HyperParameterTuningJobStatusCompleted {
				return &ExitError{Code: ExitJobFailed, Err: fmt.Errorf("tuning job %s ended %s: %s", name, out.HyperParameterTuningJobStatus, oneLine(aws.ToString(out.FailureReason)))}
			}
			return nil
		}
		if err := c.e.Sleep(ctx, c.e.pollInterval()); err != nil {
			return err
		}
	}
}

func countersText(out *sagemaker.DescribeHyperParameterTuningJobOutput) string {
	t := out.TrainingJobStatusCounters
	if t == nil {
		return ""
	}
	return fmt.Sprintf("completed %d, in progress %d, stopped %d, failed %d",
		aws.ToInt32(t.Completed), aws.ToInt32(t.InProgress), aws.ToInt32(t.Stopped), aws.ToInt32(t.NonRetryableError)+aws.ToInt32(t.RetryableError))
}

func (e *Env) tuningTrials(ctx context.Context, cl *Clients, name, objective string) ([]trialResult, error) {
	var rs []trialResult
	p := sagemaker.NewListTrainingJobsForHyperParameterTuningJobPaginator(cl.SageMaker,
		&sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		var page *sagemaker.ListTrainingJobsForHyperParameterTuningJobOutput
		err := e.newBackoff().do(ctx, name, func() error {
			var err error
			page, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list trials of %s: %w", name, err)
		}
		for _, s := range page.TrainingJobSummaries {
			r := trialResult{name: aws.ToString(s.TrainingJobName), hp: s.TunedHyperParameters, status: string(s.TrainingJobStatus),
				metrics: map[string]float64{}, failure: oneLine(aws.ToString(s.FailureReason))}
			// The listing lacks billable time and the model; the trial's own description has them.
			if out, err := e.describeJob(ctx, cl, r.name); err == nil {
				full := resultOf(r.name, r.hp, out)
				r.billable, r.model, r.metrics = full.billable, full.model, full.metrics
			}
			if m := s.FinalHyperParameterTuningJobObjectiveMetric; m != nil && m.Value != nil {
				r.metrics[objective] = float64(*m.Value)
			}
			rs = append(rs, r)
		}
	}
	return rs, nil
}

func writeTuningSummary(w io.Writer, out *sagemaker.DescribeHyperParameterTuningJobOutput) {
	fmt.Fprintf(w, "tuning job  %s\n", aws.ToString(out.HyperParameterTuningJobName))
	fmt.Fprintf(w, "status      %s\n", out.HyperParameterTuningJobStatus)
	if cfg := out.HyperParameterTuningJobConfig; cfg != nil {
		fmt.Fprintf(w, "strategy    %s\n", cfg.Strategy)
	}
	if out.FailureReason != nil {
		fmt.Fprintf(w, "reason      %s\n", oneLine(aws.ToString(out.FailureReason)))
	}
	fmt.Fprintf(w, "trials      %s\n", countersText(out))
	if b := out.BestTrainingJob; b != nil {
		fmt.Fprintf(w, "best job    %s\n", aws.ToString(b.TrainingJobName))
		if m := b.FinalHyperParameterTuningJobObjectiveMetric; m != nil && m.Value != nil {
			fmt.Fprintf(w, "best value  %s=%s\n", aws.ToString(m.MetricName), strconv.FormatFloat(float64(*m.Value), 'g', 6, 64))
		}
		for k, v := range sortedMap(b.TunedHyperParameters) {
			fmt.Fprintf(w, "best hp     %s=%s\n", k, v)
		}
	}
}
