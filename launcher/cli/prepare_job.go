package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/container/processing"
	"github.com/blueblood/blueblood/pipeline"
)

// Limits of CreateProcessingJob from the API model.
const (
	maxProcessingIO      = 10     // ProcessingInputs, and outputs
	maxProcessingRuntime = 777600 // StoppingCondition.MaxRuntimeInSeconds, 9 days
	maxProcessingEnv     = 100
	maxProcessingEnvLen  = 256
	maxContainerArgs     = 100
)

// prepareJobFlags turn `launcher prepare` into a SageMaker Processing job that runs the
// same preparation in the trainer image (--image), next to the data.
type prepareJobFlags struct {
	image, role, name, instanceType, maxRuntime string
	volumeSize                                  int
	env, tags                                   kvFlag
	dryRun, wait, logs                          bool
	sec                                         securityFlags
}

func (f *prepareJobFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.image, "image", "", "run as a SageMaker Processing job with this trainer image (inputs and output on S3)")
	fs.StringVar(&f.role, "role", "", "with --image: IAM role ARN for SageMaker")
	fs.StringVar(&f.name, "job-name", "", "with --image: processing job name (default: blueblood-prepare-TIMESTAMP)")
	fs.StringVar(&f.instanceType, "instance-type", "ml.m5.xlarge", "with --image: processing instance type")
	fs.IntVar(&f.volumeSize, "volume-size", 30, "with --image: EBS volume in GB (holds the inputs and the dataset)")
	fs.StringVar(&f.maxRuntime, "max-runtime", "86400", "with --image: stop the job after this many seconds (or a duration like 2h; at most 9 days)")
	fs.Var(&f.env, "env", "with --image: container environment `KEY=VALUE` (repeatable; e.g. read limits)")
	fs.Var(&f.tags, "tag", "with --image: job tag `KEY=VALUE` (repeatable)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "with --image: print the CreateProcessingJob request as JSON and call nothing")
	fs.BoolVar(&f.wait, "wait", false, "with --image: follow the job until it ends, then print a summary")
	fs.BoolVar(&f.logs, "logs", true, "with --image and --wait: print the job's log as it comes")
	f.sec.register(fs, reqProcessing)
}

// active reports whether the command runs as a processing job.
func (f *prepareJobFlags) active() bool { return f.image != "" || f.dryRun || f.role != "" || f.wait }

// submit creates the processing job that prepares opt.Inputs into opt.Output.
func (f *prepareJobFlags) submit(ctx context.Context, e *Env, opt pipeline.PrepareOptions) error {
	in, sec, err := f.request(e, opt)
	if err != nil {
		return err
	}
	if f.dryRun {
		printOrigins(e.Stderr, sec.origins)
		return printDryRun(ctx, e, func(cl *sagemaker.Client) error {
			_, err := cl.CreateProcessingJob(ctx, in)
			return err
		})
	}
	cl, err := e.aws(ctx)
	if err != nil {
		return err
	}
	name := aws.ToString(in.ProcessingJobName)
	var out *sagemaker.CreateProcessingJobOutput
	err = e.newBackoff().do(ctx, name, func() error {
		var err error
		out, err = cl.SageMaker.CreateProcessingJob(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("create processing job %s: %w", name, err)
	}
	fmt.Fprintf(e.Stdout, "submitted %s\n  %s\n", name, aws.ToString(out.ProcessingJobArn))
	if !f.wait {
		fmt.Fprintf(e.Stdout, "follow it with: launcher wait %s   (logs: launcher logs %s --follow)\n", name, name)
		return nil
	}
	final, err := e.followProcessing(ctx, cl, name, f.logs, nil)
	if err != nil {
		return err
	}
	writeProcessingSummary(e.Stdout, final)
	return processingResult(final)
}

// request validates the flags against the API's constraints and builds the request with
// the network and keys from the flags or the SageMaker config file; errors name the flag.
func (f *prepareJobFlags) request(e *Env, opt pipeline.PrepareOptions) (*sagemaker.CreateProcessingJobInput, *security, error) {
	cfg, err := loadSDKConfig(e.Getenv)
	if err != nil {
		return nil, nil, err
	}
	sec, err := f.sec.resolve(cfg, reqProcessing)
	if err != nil {
		return nil, nil, err
	}
	f.role = sec.withRole(f.role, "")
	req, err := f.build(e, opt)
	if err != nil {
		return nil, nil, err
	}
	sec.applyProcessing(req)
	req.Tags = sec.withTags(req.Tags)
	if err := checkTagCount(req.Tags); err != nil {
		return nil, nil, err
	}
	return req, sec, nil
}

// build validates the flags against the API's constraints and builds the request.
func (f *prepareJobFlags) build(e *Env, opt pipeline.PrepareOptions) (*sagemaker.CreateProcessingJobInput, error) {
	if err := checkImage("--image", f.image); err != nil {
		return nil, err
	}
	if err := checkRole("--role", f.role); err != nil {
		return nil, err
	}
	name := f.name
	if name != "" {
		if err := checkName("--job-name", name, false); err != nil {
			return nil, err
		}
	} else {
		name = composeName("blueblood-prepare", jobStamp(e.Now()), maxJobName)
	}
	if len(opt.Inputs) > maxProcessingIO {
		return nil, usagef("--input: %d inputs, a processing job takes at most %d (give a common S3 prefix instead)", len(opt.Inputs), maxProcessingIO)
	}
	var inputs []types.ProcessingInput
	counts := map[string]int{}
	for _, raw := range opt.Inputs {
		split, uri := "", raw
		if s, rest, ok := strings.Cut(raw, "="); ok && slices.Contains(pipeline.Channels[:], s) {
			split, uri = s, rest
		}
		if !strings.HasPrefix(uri, "s3://") {
			return nil, usagef("--input %q: a processing job reads S3: give an s3:// prefix (upload local tables first, e.g. aws s3 cp --recursive)", raw)
		}
		if err := checkS3URI("--input", uri); err != nil {
			return nil, err
		}
		counts[split]++
		in := processing.InputName(split, counts[split])
		inputs = append(inputs, types.ProcessingInput{InputName: aws.String(in), S3Input: &types.ProcessingS3Input{
			S3Uri: aws.String(uri), LocalPath: aws.String(processing.InputPath(in)),
			S3DataType: types.ProcessingS3DataTypeS3Prefix, S3InputMode: types.ProcessingS3InputModeFile,
			S3DataDistributionType: types.ProcessingS3DataDistributionTypeFullyreplicated}})
	}
	if !strings.HasPrefix(opt.Output, "s3://") {
		return nil, usagef("--output %q: a processing job writes S3: give an s3:// prefix", opt.Output)
	}
	if err := checkS3URI("--output", opt.Output); err != nil {
		return nil, err
	}
	if !slices.Contains(types.ProcessingInstanceType("").Values(), types.ProcessingInstanceType(f.instanceType)) {
		return nil, usagef("--instance-type %q: not a processing instance type (e.g. ml.m5.xlarge, ml.r5.2xlarge)", f.instanceType)
	}
	if f.volumeSize < 1 || f.volumeSize > 16384 {
		return nil, usagef("--volume-size %d: expected 1 to 16384 GB", f.volumeSize)
	}
	runtime, err := parseSeconds("--max-runtime", f.maxRuntime)
	if err != nil {
		return nil, err
	}
	if runtime > maxProcessingRuntime {
		return nil, usagef("--max-runtime %s: a processing job runs at most %d seconds (9 days)", f.maxRuntime, maxProcessingRuntime)
	}
	if err := checkEnv(f.env.items, envLimits{vars: maxProcessingEnv, name: maxProcessingEnvLen, value: maxProcessingEnvLen}); err != nil {
		return nil, err
	}
	tags, err := checkTags(f.tags.items)
	if err != nil {
		return nil, err
	}
	tags = append(e.defaultTags(), tags...)
	if err := checkTagCount(tags); err != nil {
		return nil, err
	}
	// The options travel as arguments; the job's folders replace inputs and output.
	// The read limits are the job's own (its environment: --env BLUEBLOOD_MAX_...), not
	// this machine's.
	sent := opt
	sent.Inputs, sent.Output, sent.Read.Limits = nil, "", pipeline.Limits{}
	args, err := processing.Arguments(sent)
	if err != nil {
		return nil, usageError(err.Error())
	}
	if len(args) > maxContainerArgs {
		return nil, usagef("%d container arguments, a processing job takes at most %d", len(args), maxContainerArgs)
	}
	req := &sagemaker.CreateProcessingJobInput{
		ProcessingJobName: aws.String(name),
		RoleArn:           aws.String(f.role),
		AppSpecification:  &types.AppSpecification{ImageUri: aws.String(f.image), ContainerArguments: args},
		ProcessingInputs:  inputs,
		ProcessingOutputConfig: &types.ProcessingOutputConfig{Outputs: []types.ProcessingOutput{{
			OutputName: aws.String(processing.OutputName),
			S3Output: &types.ProcessingS3Output{S3Uri: aws.String(opt.Output), LocalPath: aws.String(processing.OutputPath()),
				S3UploadMode: types.ProcessingS3UploadModeEndOfJob}}}},
		ProcessingResources: &types.ProcessingResources{ClusterConfig: &types.ProcessingClusterConfig{
			InstanceCount: aws.Int32(1), InstanceType: types.ProcessingInstanceType(f.instanceType), VolumeSizeInGB: aws.Int32(int32(f.volumeSize))}},
		StoppingCondition: &types.ProcessingStoppingCondition{MaxRuntimeInSeconds: aws.Int32(runtime)},
		Tags:              tags,
	}
	if len(f.env.items) > 0 {
		req.Environment = map[string]string{}
		for _, kv := range f.env.items {
			req.Environment[kv[0]] = kv[1]
		}
	}
	return req, nil
}
