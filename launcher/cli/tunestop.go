package cli

import (
	"flag"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// Tuning limits (ResourceLimits.MaxRuntimeInSeconds, BestObjectiveNotImproving).
const (
	minTuningRuntime, maxTuningRuntime = 120, 15768000
	minNotImproving, maxNotImproving   = 3, 1000000
)

// tuneStopFlags make a tuning job reproducible and let it end before its budget.
type tuneStopFlags struct {
	fs            *flag.FlagSet
	seed          int
	target        string
	notImproving  int
	maxRuntime    string
	onConvergence bool
}

func (f *tuneStopFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.IntVar(&f.seed, "seed", 0, "random seed of the search (RandomSeed), so the same request tries the same hyperparameters")
	fs.StringVar(&f.target, "target-metric-value", "", "end the tuning job once a trial's objective reaches this `VALUE`")
	fs.IntVar(&f.notImproving, "stop-when-not-improving", 0, "end the tuning job after `N` trials (at least 3) without a better objective")
	fs.BoolVar(&f.onConvergence, "stop-on-convergence", false, "end the tuning job when SageMaker detects convergence (ConvergenceDetected)")
	fs.StringVar(&f.maxRuntime, "max-tuning-runtime", "", "end the tuning job after this long (seconds or a duration like 6h; 120 s to 182 days)")
}

func (f *tuneStopFlags) apply(in *sagemaker.CreateHyperParameterTuningJobInput, strategy types.HyperParameterTuningJobStrategyType) error {
	cfg := in.HyperParameterTuningJobConfig
	if flagSet(f.fs, "seed") {
		if f.seed < 0 {
			return usagef("--seed %d: expected 0 or more", f.seed)
		}
		cfg.RandomSeed = aws.Int32(int32(f.seed))
	}
	cc := &types.TuningJobCompletionCriteria{}
	if f.target != "" {
		v, err := strconv.ParseFloat(f.target, 32)
		if err != nil {
			return usagef("--target-metric-value %q: expected a number", f.target)
		}
		cc.TargetObjectiveMetricValue = aws.Float32(float32(v))
	}
	if flagSet(f.fs, "stop-when-not-improving") {
		if f.notImproving < minNotImproving || f.notImproving > maxNotImproving {
			return usagef("--stop-when-not-improving %d: expected %d or more trials", f.notImproving, minNotImproving)
		}
		cc.BestObjectiveNotImproving = &types.BestObjectiveNotImproving{MaxNumberOfTrainingJobsNotImproving: aws.Int32(int32(f.notImproving))}
	}
	if f.onConvergence {
		cc.ConvergenceDetected = &types.ConvergenceDetected{CompleteOnConvergence: types.CompleteOnConvergenceEnabled}
	}
	if *cc != (types.TuningJobCompletionCriteria{}) {
		if strategy == types.HyperParameterTuningJobStrategyTypeGrid && (cc.BestObjectiveNotImproving != nil || cc.ConvergenceDetected != nil) {
			return usageError("--stop-when-not-improving and --stop-on-convergence do not apply to Grid, which runs every combination")
		}
		cfg.TuningJobCompletionCriteria = cc
	}
	if f.maxRuntime != "" {
		n, err := parseSeconds("--max-tuning-runtime", f.maxRuntime)
		if err != nil {
			return err
		}
		if n < minTuningRuntime || n > maxTuningRuntime {
			return usagef("--max-tuning-runtime %d s: expected %d to %d seconds", n, minTuningRuntime, maxTuningRuntime)
		}
		cfg.ResourceLimits.MaxRuntimeInSeconds = aws.Int32(n)
	}
	return nil
}
