package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// Batch transform limits (CreateTransformJob): the payload of one request is at
// most 100 MB, and so is MaxConcurrentTransforms × MaxPayloadInMB.
const (
	maxTransformPayloadMB = 100
	maxTransformEnv       = 16
)

// transformFormats are the content types the serve mode reads line by line and
// answers in kind (SplitType Line, AssembleWith Line).
var transformFormats = map[string]string{"csv": "text/csv", "jsonlines": "application/jsonlines"}

type transformCmd struct {
	e             *Env
	model         string
	input, output string
	format        string
	name          string
	instanceType  string
	instanceCount int
	maxPayloadMB  int
	maxConcurrent int
	batch         string
	env, tags     kvFlag
	wait          bool
	dryRun        bool
	sec           securityFlags
	join          joinFlags
}

func newTransform(e *Env, fs *flag.FlagSet) unit {
	c := &transformCmd{e: e}
	fs.StringVar(&c.model, "model", "", "a Completed training `JOB` (a SageMaker model is created from it) or an existing SageMaker MODEL name (required)")
	fs.StringVar(&c.input, "input", "", "s3:// prefix or object with the cases, one per line (required)")
	fs.StringVar(&c.output, "output", "", "s3:// prefix for the answers: <input file>.out, one line per input line (required)")
	fs.StringVar(&c.format, "format", "csv", "csv (header-less rows in the training table's column order, or with its header) or jsonlines (one case per line); the answers come in the same format")
	fs.StringVar(&c.name, "name", "", "transform job name (default: the model's name and the time)")
	fs.StringVar(&c.instanceType, "instance-type", "ml.m5.large", "instance type")
	fs.IntVar(&c.instanceCount, "instance-count", 1, "number of instances (input files are spread over them)")
	fs.IntVar(&c.maxPayloadMB, "max-payload-mb", 0, "largest request body in MB, 1-100 (default: what the container's /execution-parameters says, else 6)")
	fs.IntVar(&c.maxConcurrent, "max-concurrent", 0, "parallel requests per instance (default: the container's /execution-parameters)")
	fs.StringVar(&c.batch, "batch-strategy", "", "MultiRecord (many lines per request) or SingleRecord (default: the container's /execution-parameters)")
	fs.Var(&c.env, "env", "container environment `KEY=VALUE` (repeatable, at most 16)")
	fs.Var(&c.tags, "tag", "tag `KEY=VALUE` on the transform job (and the model it creates) (repeatable)")
	fs.BoolVar(&c.wait, "wait", false, "follow the job until it ends (exit 0 Completed, 3 Failed, 4 Stopped)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the CreateModel (when --model is a job) and CreateTransformJob requests, say what would be looked up, and send nothing")
	c.sec.register(fs, reqModel, reqTransform)
	c.join.register(fs)
	return c
}

// transformPlan is what transform sends, decided before the first write.
type transformPlan struct {
	createModel *sagemaker.CreateModelInput // nil when --model names an existing model
	job         *sagemaker.CreateTransformJobInput
}

func (c *transformCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("transform: unexpected argument %q", args[0])
	}
	if err := c.checkFlags(); err != nil {
		return err
	}
	sec, err := c.resolveSecurity()
	if err != nil {
		return err
	}
	cl, err := c.e.awsOrDryRun(ctx, c.dryRun)
	if err != nil {
		return err
	}
	plan, err := c.plan(ctx, cl)
	if err != nil {
		return err
	}
	if err := sec.apply(plan, &c.join); err != nil {
		return err
	}
	apply := func(sm *sagemaker.Client) error {
		b := c.e.newBackoff()
		if plan.createModel != nil {
			if err := b.do(ctx, "model", func() error { _, err := sm.CreateModel(ctx, plan.createModel); return err }); err != nil {
				return fmt.Errorf("create model %s: %w", aws.ToString(plan.createModel.ModelName), err)
			}
		}
		name := aws.ToString(plan.job.TransformJobName)
		if err := b.do(ctx, name, func() error { _, err := sm.CreateTransformJob(ctx, plan.job); return err }); err != nil {
			return fmt.Errorf("create transform job %s: %w", name, err)
		}
		return nil
	}
	if c.dryRun {
		printOrigins(c.e.Stderr, sec.model.origins, sec.job.origins)
		return printDryRun(ctx, c.e, apply)
	}
	if err := apply(cl.SageMaker); err != nil {
		return err
	}
	name := aws.ToString(plan.job.TransformJobName)
	fmt.Fprintf(c.e.Stdout, "submitted transform job %s\n  model   %s\n  input   %s\n  output  %s\n", name,
		aws.ToString(plan.job.ModelName), c.input, c.output)
	if !c.wait {
		fmt.Fprintf(c.e.Stdout, "it runs on its own; the answers land under %s as <input file>.out (add --wait to follow it)\n", c.output)
		return nil
	}
	return c.follow(ctx, cl, name)
}

func (c *transformCmd) checkFlags() error {
	switch {
	case c.model == "":
		return usageError("--model is required: a Completed training job or a SageMaker model name")
	case c.input == "":
		return usageError("--input is required: an s3:// prefix or object with one case per line")
	case c.output == "":
		return usageError("--output is required: an s3:// prefix for the answers")
	}
	if err := checkName("--model", c.model, false); err != nil {
		return err
	}
	if err := checkS3URI("--input", c.input); err != nil {
		return err
	}
	if err := checkS3URI("--output", c.output); err != nil {
		return err
	}
	if _, ok := transformFormats[c.format]; !ok {
		return usagef("--format %q: expected csv or jsonlines", c.format)
	}
	if c.name != "" {
		if err := checkName("--name", c.name, false); err != nil {
			return err
		}
	}
	if !slices.Contains(types.TransformInstanceType("").Values(), types.TransformInstanceType(c.instanceType)) {
		return usagef("--instance-type %q: expected a batch transform instance type like ml.m5.large", c.instanceType)
	}
	if c.instanceCount < 1 || c.instanceCount > 100 {
		return usagef("--instance-count %d: expected 1 to 100", c.instanceCount)
	}
	if c.maxPayloadMB < 0 || c.maxPayloadMB > maxTransformPayloadMB {
		return usagef("--max-payload-mb %d: expected 1 to %d", c.maxPayloadMB, maxTransformPayloadMB)
	}
	if c.maxConcurrent < 0 {
		return usagef("--max-concurrent %d: expected 1 or more", c.maxConcurrent)
	}
	if c.maxConcurrent > 0 && c.maxPayloadMB > 0 && c.maxConcurrent*c.maxPayloadMB > maxTransformPayloadMB {
		return usagef("--max-concurrent %d × --max-payload-mb %d: expected at most %d MB in flight", c.maxConcurrent, c.maxPayloadMB, maxTransformPayloadMB)
	}
	if c.batch != "" && c.batch != string(types.BatchStrategyMultiRecord) && c.batch != string(types.BatchStrategySingleRecord) {
		return usagef("--batch-strategy %q: expected MultiRecord or SingleRecord", c.batch)
	}
	if err := checkEnv(c.env.items, envLimits{vars: maxTransformEnv, name: 1024, value: 10240}); err != nil {
		return err
	}
	_, err := checkTags(c.tags.items)
	return err
}

// plan resolves --model: an existing SageMaker model is used as it is; a training
// job gets a model of its artifacts, image (whose serve mode answers) and role,
// the way the Python SDK's Estimator.transformer() does.
func (c *transformCmd) plan(ctx context.Context, cl *Clients) (*transformPlan, error) {
	p := &transformPlan{}
	extra, err := checkTags(c.tags.items)
	if err != nil {
		return nil, err
	}
	tags := c.e.defaultTags(extra...)
	if err := checkTagCount(tags); err != nil {
		return nil, err
	}
	model := c.model
	_, err = c.e.describeModel(ctx, cl, c.model)
	switch {
	case errors.Is(err, errNoModel):
		job, err := c.e.describeJob(ctx, cl, c.model)
		if errors.Is(err, errNoJob) {
			return nil, fmt.Errorf("--model %s: neither a SageMaker model nor a training job of that name in region %s", c.model, cl.SageMaker.Options().Region)
		}
		if err != nil {
			return nil, err
		}
		if job.TrainingJobStatus != types.TrainingJobStatusCompleted || job.ModelArtifacts == nil {
			return nil, fmt.Errorf("training job %s is %s; transform needs a Completed job", c.model, job.TrainingJobStatus)
		}
		model = composeName(c.model, jobStamp(c.e.Now()), maxJobName)
		var image string
		if job.AlgorithmSpecification != nil {
			image = aws.ToString(job.AlgorithmSpecification.TrainingImage)
		}
		p.createModel = &sagemaker.CreateModelInput{
			ModelName:        aws.String(model),
			ExecutionRoleArn: job.RoleArn,
			PrimaryContainer: &types.ContainerDefinition{Image: aws.String(image), ModelDataUrl: job.ModelArtifacts.S3ModelArtifacts},
			Tags:             tags,
		}
	case err != nil:
		return nil, err
	}
	name := c.name
	if name == "" {
		name = composeName(c.model, jobStamp(c.e.Now()), maxJobName)
	}
	ct := transformFormats[c.format]
	in := &sagemaker.CreateTransformJobInput{
		TransformJobName: aws.String(name),
		ModelName:        aws.String(model),
		TransformInput: &types.TransformInput{
			DataSource: &types.TransformDataSource{S3DataSource: &types.TransformS3DataSource{
				S3DataType: types.S3DataTypeS3Prefix, S3Uri: aws.String(c.input)}},
			ContentType:     aws.String(ct),
			SplitType:       types.SplitTypeLine, // one case per line; CSV lines come without the header
			CompressionType: types.CompressionTypeNone,
		},
		TransformOutput: &types.TransformOutput{
			S3OutputPath: aws.String(c.output),
			Accept:       aws.String(ct),
			AssembleWith: types.AssemblyTypeLine,
		},
		TransformResources: &types.TransformResources{
			InstanceType:  types.TransformInstanceType(c.instanceType),
			InstanceCount: aws.Int32(int32(c.instanceCount)),
		},
		BatchStrategy: types.BatchStrategy(c.batch),
		Tags:          tags,
	}
	if c.maxPayloadMB > 0 {
		in.MaxPayloadInMB = aws.Int32(int32(c.maxPayloadMB))
	}
	if c.maxConcurrent > 0 {
		in.MaxConcurrentTransforms = aws.Int32(int32(c.maxConcurrent))
	}
	if len(c.env.items) > 0 {
		in.Environment = map[string]string{}
		for _, kv := range c.env.items {
			in.Environment[kv[0]] = kv[1]
		}
	}
	p.job = in
	return p, nil
}

// errNoModel marks DescribeModel's "Could not find model".
var errNoModel = errors.New("model does not exist")

func (e *Env) describeModel(ctx context.Context, c *Clients, name string) (*sagemaker.DescribeModelOutput, error) {
	var out *sagemaker.DescribeModelOutput
	err := e.newBackoff().do(ctx, name, func() error {
		var err error
		out, err = c.SageMaker.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: aws.String(name)})
		return err
	})
	if err != nil {
		if apiErrorCode(err) == "ValidationException" && strings.Contains(err.Error(), "Could not find model") {
			return nil, fmt.Errorf("model %s: %w", name, errNoModel)
		}
		return nil, fmt.Errorf("describe model %s: %w", name, err)
	}
	return out, nil
}

// follow polls the transform job until it ends, printing each status change.
func (c *transformCmd) follow(ctx context.Context, cl *Clients, name string) error {
	start := c.e.Now()
	last := types.TransformJobStatus("")
	for {
		var out *sagemaker.DescribeTransformJobOutput
		err := c.e.newBackoff().do(ctx, name, func() error {
			var err error
			out, err = cl.SageMaker.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String(name)})
			return err
		})
		if err != nil {
			return fmt.Errorf("describe transform job %s: %w", name, err)
		}
		if out.TransformJobStatus != last {
			fmt.Fprintf(c.e.Stderr, "%s  %-10s %s\n", fmtTime(aws.Time(c.e.Now())), out.TransformJobStatus, c.e.Now().Sub(start).Round(time.Second))
			last = out.TransformJobStatus
		}
		switch out.TransformJobStatus {
		case types.TransformJobStatusCompleted:
			fmt.Fprintf(c.e.Stdout, "transform job %s Completed\n  answers  %s\n", name, aws.ToString(out.TransformOutput.S3OutputPath))
			return nil
		case types.TransformJobStatusFailed:
			return &ExitError{Code: ExitJobFailed, Err: fmt.Errorf("transform job %s failed: %s", name, oneLine(aws.ToString(out.FailureReason)))}
		case types.TransformJobStatusStopped:
			return &ExitError{Code: ExitStopped, Err: fmt.Errorf("transform job %s stopped", name)}
		}
		if err := c.e.Sleep(ctx, c.e.pollInterval()); err != nil {
			return err
		}
	}
}
