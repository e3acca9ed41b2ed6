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

// Hosting limits from the SageMaker API (sagemaker-api-constraints.md §5).
const (
	maxModelEnv           = 16
	variantName           = "AllTraffic"
	defaultEndpoint       = "blueblood"
	defaultDeployTimeout  = "30m"
	maxServerlessParallel = 200
)

var serverlessMemorySizes = []int{1024, 2048, 3072, 4096, 5120, 6144}

type deployCmd struct {
	e                *Env
	fs               *flag.FlagSet
	name             string
	image, role      string
	instanceType     string
	instanceCount    int
	serverlessMemory int
	serverlessConc   int
	env              kvFlag
	tags             kvFlag
	noWait           bool
	timeout          string
	dryRun           bool
	sec              securityFlags
	capture          captureFlags
	pkg              packageSource
}

func newDeploy(e *Env, fs *flag.FlagSet) unit {
	c := &deployCmd{e: e, fs: fs}
	fs.StringVar(&c.name, "name", "", "endpoint name; an existing endpoint is updated (default: the training job's name, or "+defaultEndpoint+")")
	fs.StringVar(&c.image, "image", "", "serving image URI (default: the training job's image; required with an s3:// model)")
	fs.StringVar(&c.role, "role", "", "IAM role ARN SageMaker uses to pull the image and model (default: the training job's role)")
	fs.StringVar(&c.instanceType, "instance-type", "ml.m5.large", "instance type of a real-time endpoint")
	fs.IntVar(&c.instanceCount, "instance-count", 1, "number of instances of a real-time endpoint")
	fs.IntVar(&c.serverlessMemory, "serverless-memory", 0, "deploy serverless with this much memory in MB (1024-6144, a multiple of 1024)")
	fs.IntVar(&c.serverlessConc, "serverless-concurrency", 5, "with --serverless-memory: most concurrent invocations (1-200)")
	fs.Var(&c.env, "env", "container environment `KEY=VALUE` (repeatable, at most 16)")
	fs.Var(&c.tags, "tag", "tag `KEY=VALUE` on the model, configuration and endpoint (repeatable)")
	fs.BoolVar(&c.noWait, "no-wait", false, "return once the endpoint is being created instead of waiting for InService")
	fs.StringVar(&c.timeout, "timeout", defaultDeployTimeout, "give up waiting after this long (seconds or a duration like 45m)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the CreateModel, CreateEndpointConfig and CreateEndpoint/UpdateEndpoint requests as JSON and send nothing (what would be looked up, the training job and the endpoint, is said on stderr)")
	c.sec.register(fs, reqModel, reqEndpointConfig)
	c.capture.register(fs)
	c.pkg.register(fs)
	return c
}

// deployPlan is everything deploy will send, decided before the first write.
type deployPlan struct {
	endpoint, model, config string
	update                  bool
	createModel             *sagemaker.CreateModelInput
	createConfig            *sagemaker.CreateEndpointConfigInput
}

func (c *deployCmd) Exec(ctx context.Context, args []string) error {
	if c.pkg.name != "" {
		if len(args) != 0 {
			return usageError("deploy --package takes no MODEL_SOURCE: the package is the source")
		}
		args = []string{c.pkg.name}
	}
	if len(args) != 1 {
		return usageError("deploy needs exactly one MODEL_SOURCE: a training job name or an s3://.../model.tar.gz URI (or --package GROUP[/VERSION])")
	}
	src := args[0]
	set := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := c.checkFlags(set); err != nil {
		return err
	}
	timeout, err := parseSeconds("--timeout", c.timeout)
	if err != nil {
		return err
	}

	var cl *Clients
	clients := func() (*Clients, error) {
		if cl != nil {
			return cl, nil
		}
		var err error
		cl, err = c.e.awsOrDryRun(ctx, c.dryRun)
		return cl, err
	}
	sec, err := c.resolveSecurity()
	if err != nil {
		return err
	}
	modelData, image, role, endpoint := "", c.image, sec.model.withRole(c.role, ""), c.name
	if c.pkg.name != "" {
		cl, err := clients()
		if err != nil {
			return err
		}
		if sec.packageArn, err = c.pkg.resolve(ctx, c.e, cl); err != nil {
			return err
		}
		if role == "" {
			return usageError("--role is required with --package (or SageMaker.Model.ExecutionRoleArn in the SageMaker config file): the role the model runs as")
		}
		if endpoint == "" {
			endpoint = c.pkg.group()
		}
		modelData = sec.packageArn
	} else if strings.HasPrefix(src, "s3://") {
		if err := checkS3URI("MODEL_SOURCE", src); err != nil {
			return err
		}
		if !strings.HasSuffix(src, ".tar.gz") {
			return usagef("MODEL_SOURCE %q: expected the model.tar.gz a training job wrote (s3://.../output/model.tar.gz)", src)
		}
		modelData = src
		if endpoint == "" {
			endpoint = defaultEndpoint
		}
	} else {
		if err := checkName("MODEL_SOURCE (a training job name)", src, false); err != nil {
			return err
		}
		cl, err := clients()
		if err != nil {
			return err
		}
		job, err := c.e.describeJob(ctx, cl, src)
		if err != nil {
			return err
		}
		if job.TrainingJobStatus != types.TrainingJobStatusCompleted {
			return fmt.Errorf("training job %s is %s; deploy needs a Completed job", src, job.TrainingJobStatus)
		}
		if job.ModelArtifacts == nil || aws.ToString(job.ModelArtifacts.S3ModelArtifacts) == "" {
			return fmt.Errorf("training job %s has no model artifacts", src)
		}
		modelData = aws.ToString(job.ModelArtifacts.S3ModelArtifacts)
		if image == "" && job.AlgorithmSpecification != nil {
			image = aws.ToString(job.AlgorithmSpecification.TrainingImage)
		}
		if role == "" {
			role = aws.ToString(job.RoleArn)
		}
		if endpoint == "" {
			endpoint = src
		}
	}
	if image == "" && c.pkg.name == "" {
		return usagef("--image is required with an s3:// model: the serving image URI (the training image serves too: account.dkr.ecr.region.amazonaws.com/repo:tag)")
	}
	if c.pkg.name == "" {
		if err := checkImage("--image", image); err != nil {
			return err
		}
	}
	if err := checkRole("--role", role); err != nil {
		return err
	}
	if err := checkName("--name", endpoint, false); err != nil {
		return err
	}
	plan, err := c.plan(endpoint, modelData, image, role)
	if err != nil {
		return err
	}
	if err := sec.apply(plan, &c.capture); err != nil {
		return err
	}

	// an existing endpoint is updated in place (SageMaker swaps instances without downtime)
	var status types.EndpointStatus
	if c.dryRun {
		fmt.Fprintf(c.e.Stderr, "dry run: would look up endpoint %s (DescribeEndpoint): an existing one gets UpdateEndpoint; showing CreateEndpoint\n", endpoint)
	} else {
		status, err = c.endpointStatus(ctx, clients, endpoint)
	}
	switch {
	case err != nil:
		return err
	case status == types.EndpointStatusCreating || status == types.EndpointStatusUpdating || status == types.EndpointStatusDeleting ||
		status == types.EndpointStatusSystemUpdating || status == types.EndpointStatusRollingBack:
		return fmt.Errorf("endpoint %s is %s; wait until it is InService (launcher deploy ... --name %s updates it then)", endpoint, status, endpoint)
	}
	plan.update = status != ""

	if c.dryRun {
		printOrigins(c.e.Stderr, sec.model.origins, sec.config.origins)
		return printDryRun(ctx, c.e, func(sm *sagemaker.Client) error { return c.apply(ctx, sm, plan) })
	}
	cl, err = clients()
	if err != nil {
		return err
	}
	if err := c.apply(ctx, cl.SageMaker, plan); err != nil {
		return err
	}
	verb := "creating"
	if plan.update {
		verb = "updating"
	}
	fmt.Fprintf(c.e.Stdout, "%s endpoint %s\n  model   %s (%s)\n  config  %s\n", verb, endpoint, plan.model, modelData, plan.config)
	if c.noWait {
		fmt.Fprintf(c.e.Stdout, "it takes a few minutes to become InService; then: launcher predict %s --input cases.json\n", endpoint)
		return nil
	}
	if err := c.e.waitEndpoint(ctx, cl, endpoint, plan.config, time.Duration(timeout)*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(c.e.Stdout, "endpoint %s is InService\n  predict:   launcher predict %s --input cases.json\n  undeploy:  launcher undeploy %s\n", endpoint, endpoint, endpoint)
	return nil
}

func (c *deployCmd) checkFlags(set map[string]bool) error {
	serverless := set["serverless-memory"]
	switch {
	case serverless && (set["instance-type"] || set["instance-count"]):
		return usageError("--serverless-memory deploys a serverless endpoint; drop --instance-type and --instance-count")
	case !serverless && set["serverless-concurrency"]:
		return usageError("--serverless-concurrency needs --serverless-memory")
	case serverless && !slices.Contains(serverlessMemorySizes, c.serverlessMemory):
		return usagef("--serverless-memory %d: expected 1024, 2048, 3072, 4096, 5120 or 6144", c.serverlessMemory)
	case serverless && (c.serverlessConc < 1 || c.serverlessConc > maxServerlessParallel):
		return usagef("--serverless-concurrency %d: expected 1 to %d", c.serverlessConc, maxServerlessParallel)
	case !serverless && !reInstance.MatchString(c.instanceType):
		return usagef("--instance-type %q: expected an instance type like ml.m5.large", c.instanceType)
	case !serverless && c.instanceCount < 1:
		return usagef("--instance-count %d: expected 1 or more", c.instanceCount)
	}
	if err := checkEnv(c.env.items, envLimits{vars: maxModelEnv, name: 1024, value: 1024}); err != nil {
		return err
	}
	_, err := checkTags(c.tags.items)
	return err
}

// plan builds the requests. Model and configuration names carry a timestamp, so an
// update never collides with the resources the endpoint is still serving from.
func (c *deployCmd) plan(endpoint, modelData, image, role string) (*deployPlan, error) {
	stamped := composeName(endpoint, jobStamp(c.e.Now()), maxJobName)
	p := &deployPlan{endpoint: endpoint, model: stamped, config: stamped}
	var env map[string]string
	if len(c.env.items) > 0 {
		env = map[string]string{}
		for _, kv := range c.env.items {
			env[kv[0]] = kv[1]
		}
	}
	extra, err := checkTags(c.tags.items)
	if err != nil {
		return nil, err
	}
	tags := c.e.defaultTags(append(extra, types.Tag{Key: aws.String("blueblood:endpoint"), Value: aws.String(endpoint)})...)
	if err := checkTagCount(tags); err != nil {
		return nil, err
	}
	p.createModel = &sagemaker.CreateModelInput{
		ModelName:        aws.String(p.model),
		ExecutionRoleArn: aws.String(role),
		PrimaryContainer: &types.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String(modelData), Environment: env},
		Tags:             tags,
	}
	v := types.ProductionVariant{VariantName: aws.String(variantName), ModelName: aws.String(p.model), InitialVariantWeight: aws.Float32(1)}
	if c.serverlessMemory > 0 {
		v.ServerlessConfig = &types.ProductionVariantServerlessConfig{
			MemorySizeInMB: aws.Int32(int32(c.serverlessMemory)), MaxConcurrency: aws.Int32(int32(c.serverlessConc))}
	} else {
		v.InstanceType = types.ProductionVariantInstanceType(c.instanceType)
		v.InitialInstanceCount = aws.Int32(int32(c.instanceCount))
	}
	p.createConfig = &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String(p.config),
		ProductionVariants: []types.ProductionVariant{v}, Tags: tags}
	return p, nil
}

// endpointStatus is "" when the endpoint does not exist.
func (c *deployCmd) endpointStatus(ctx context.Context, clients func() (*Clients, error), name string) (types.EndpointStatus, error) {
	cl, err := clients()
	if err != nil {
		return "", err
	}
	out, err := c.e.describeEndpoint(ctx, cl, name)
	if errors.Is(err, errNoEndpoint) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return out.EndpointStatus, nil
}

// apply sends the plan. When a later call fails, what this run created is deleted
// again (best effort), so a failed deploy leaves no orphaned model or configuration.
func (c *deployCmd) apply(ctx context.Context, sm *sagemaker.Client, p *deployPlan) error {
	var undo []func()
	fail := func(err error) error {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return err
	}
	b := c.e.newBackoff()
	if err := b.do(ctx, p.model, func() error { _, err := sm.CreateModel(ctx, p.createModel); return err }); err != nil {
		return fmt.Errorf("create model %s: %w", p.model, err)
	}
	undo = append(undo, func() {
		sm.DeleteModel(context.WithoutCancel(ctx), &sagemaker.DeleteModelInput{ModelName: aws.String(p.model)})
	})
	if err := b.do(ctx, p.config, func() error { _, err := sm.CreateEndpointConfig(ctx, p.createConfig); return err }); err != nil {
		return fail(fmt.Errorf("create endpoint config %s: %w", p.config, err))
	}
	undo = append(undo, func() {
		sm.DeleteEndpointConfig(context.WithoutCancel(ctx), &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String(p.config)})
	})
	tags := p.createConfig.Tags
	err := b.do(ctx, p.endpoint, func() error {
		if p.update {
			_, err := sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String(p.endpoint), EndpointConfigName: aws.String(p.config)})
			return err
		}
		_, err := sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String(p.endpoint), EndpointConfigName: aws.String(p.config), Tags: tags})
		return err
	})
	if err != nil {
		verb := "create"
		if p.update {
			verb = "update"
		}
		return fail(fmt.Errorf("%s endpoint %s: %w", verb, p.endpoint, err))
	}
	return nil
}

// errNoEndpoint marks DescribeEndpoint's "Could not find endpoint".
var errNoEndpoint = errors.New("endpoint does not exist")

func (e *Env) describeEndpoint(ctx context.Context, c *Clients, name string) (*sagemaker.DescribeEndpointOutput, error) {
	var out *sagemaker.DescribeEndpointOutput
	err := e.newBackoff().do(ctx, name, func() error {
		var err error
		out, err = c.SageMaker.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(name)})
		return err
	})
	if err != nil {
		// the service reports a missing endpoint as a ValidationException
		if apiErrorCode(err) == "ValidationException" && strings.Contains(err.Error(), "Could not find endpoint") {
			return nil, fmt.Errorf("endpoint %s: %w", name, errNoEndpoint)
		}
		return nil, fmt.Errorf("describe endpoint %s: %w", name, err)
	}
	return out, nil
}

// waitEndpoint polls until the endpoint is InService with config, printing each status
// change with the time taken so far.
func (e *Env) waitEndpoint(ctx context.Context, c *Clients, name, config string, timeout time.Duration) error {
	start := e.Now()
	last := types.EndpointStatus("")
	for {
		out, err := e.describeEndpoint(ctx, c, name)
		if err != nil {
			return err
		}
		elapsed := e.Now().Sub(start).Round(time.Second)
		if out.EndpointStatus != last {
			fmt.Fprintf(e.Stderr, "%s  %-10s %s\n", fmtTime(aws.Time(e.Now())), out.EndpointStatus, elapsed)
			last = out.EndpointStatus
		}
		switch out.EndpointStatus {
		case types.EndpointStatusInService:
			if got := aws.ToString(out.EndpointConfigName); got != config {
				// SageMaker rolls a failed update back to the previous configuration
				return &ExitError{Code: ExitJobFailed, Err: fmt.Errorf("endpoint %s is InService with %s, not %s: the update was rolled back: %s",
					name, got, config, oneLine(aws.ToString(out.FailureReason)))}
			}
			return nil
		case types.EndpointStatusFailed, types.EndpointStatusOutOfService:
			return &ExitError{Code: ExitJobFailed, Err: fmt.Errorf("endpoint %s is %s: %s", name, out.EndpointStatus, oneLine(aws.ToString(out.FailureReason)))}
		}
		if elapsed >= timeout {
			return fmt.Errorf("endpoint %s still %s after %s; it keeps going: run launcher deploy again later or launcher undeploy %s", name, out.EndpointStatus, elapsed, name)
		}
		if err := e.Sleep(ctx, e.pollInterval()); err != nil {
			return err
		}
	}
}
