package cli

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// The model registry: a training job's model is registered as a version of a
// model package group, approved by a reviewer, and deployed from the package.

// Metadata keys a registered version carries (CustomerMetadataProperties).
const (
	metaTrainingJob  = "blueblood:training-job"
	metaMetricPrefix = "metric:"
	maxMetadata      = 50
)

// servedTypes are the content types the image's serve mode reads and answers.
var servedTypes = []string{"application/json", "text/csv", "application/jsonlines"}

var rePackageRef = regexp.MustCompile(`^([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})(/([0-9]{1,5}))?$`)

// packageSource is deploy's --package.
type packageSource struct {
	name            string
	allowUnapproved bool
}

func (p *packageSource) register(fs *flag.FlagSet) {
	fs.StringVar(&p.name, "package", "", "deploy a registered model: `GROUP[/VERSION]` or a model package ARN (default version: the newest Approved)")
	fs.BoolVar(&p.allowUnapproved, "allow-unapproved", false, "with --package: deploy a version that is not Approved")
}

func (p *packageSource) group() string {
	if strings.HasPrefix(p.name, "arn:") {
		parts := strings.Split(p.name, "/")
		if len(parts) >= 2 {
			return parts[len(parts)-2]
		}
	}
	g, _, _ := strings.Cut(p.name, "/")
	return g
}

// resolve finds the package's ARN and refuses one that is not Approved unless told.
func (p *packageSource) resolve(ctx context.Context, e *Env, cl *Clients) (string, error) {
	var arn string
	switch {
	case strings.HasPrefix(p.name, "arn:"):
		arn = p.name
	case rePackageRef.MatchString(p.name):
		m := rePackageRef.FindStringSubmatch(p.name)
		if m[4] == "" {
			latest, err := e.latestApproved(ctx, cl, m[1])
			if err != nil {
				return "", err
			}
			arn = latest
			break
		}
		v, err := e.findVersion(ctx, cl, m[1], m[4])
		if err != nil {
			return "", err
		}
		arn = v
	default:
		return "", usagef("--package %q: expected GROUP, GROUP/VERSION or a model package ARN", p.name)
	}
	d, err := e.describePackage(ctx, cl, arn)
	if err != nil {
		return "", err
	}
	if d.ModelApprovalStatus != types.ModelApprovalStatusApproved && !p.allowUnapproved {
		return "", fmt.Errorf("model package %s is %s, not Approved; approve it first (launcher approve %s) or pass --allow-unapproved",
			arn, d.ModelApprovalStatus, arn)
	}
	return arn, nil
}

func (e *Env) describePackage(ctx context.Context, cl *Clients, arn string) (*sagemaker.DescribeModelPackageOutput, error) {
	var out *sagemaker.DescribeModelPackageOutput
	err := e.newBackoff().do(ctx, arn, func() error {
		var err error
		out, err = cl.SageMaker.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String(arn)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe model package %s: %w", arn, err)
	}
	return out, nil
}

// listVersions lists a group's versions, newest first.
func (e *Env) listVersions(ctx context.Context, cl *Clients, group string, status types.ModelApprovalStatus) ([]types.ModelPackageSummary, error) {
	var out []types.ModelPackageSummary
	pg := sagemaker.NewListModelPackagesPaginator(cl.SageMaker, &sagemaker.ListModelPackagesInput{
		ModelPackageGroupName: aws.String(group), ModelApprovalStatus: status,
		SortBy: types.ModelPackageSortByCreationTime, SortOrder: types.SortOrderDescending, MaxResults: aws.Int32(100)})
	for pg.HasMorePages() {
		var page *sagemaker.ListModelPackagesOutput
		err := e.newBackoff().do(ctx, group, func() error {
			var err error
			page, err = pg.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list model packages of %s: %w", group, err)
		}
		out = append(out, page.ModelPackageSummaryList...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return aws.ToInt32(out[i].ModelPackageVersion) > aws.ToInt32(out[j].ModelPackageVersion)
	})
	return out, nil
}

func (e *Env) latestApproved(ctx context.Context, cl *Clients, group string) (string, error) {
	vs, err := e.listVersions(ctx, cl, group, types.ModelApprovalStatusApproved)
	if err != nil {
		return "", err
	}
	if len(vs) == 0 {
		return "", fmt.Errorf("model package group %s has no Approved version; list them with launcher models --group %s", group, group)
	}
	return aws.ToString(vs[0].ModelPackageArn), nil
}

func (e *Env) findVersion(ctx context.Context, cl *Clients, group, version string) (string, error) {
	if cl.dryRun { // nothing is read: the version asked for, as a placeholder ARN
		fmt.Fprintf(e.Stderr, "dry run: would find version %s of model package group %s (ListModelPackages)\n", version, group)
		return dryRunPackageArn(group, version), nil
	}
	vs, err := e.listVersions(ctx, cl, group, "")
	if err != nil {
		return "", err
	}
	for _, v := range vs {
		if strconv.Itoa(int(aws.ToInt32(v.ModelPackageVersion))) == strings.TrimLeft(version, "0") {
			return aws.ToString(v.ModelPackageArn), nil
		}
	}
	return "", fmt.Errorf("model package group %s has no version %s", group, version)
}

// registerCmd registers a Completed training job's model as a new version.
type registerCmd struct {
	e           *Env
	group       string
	description string
	approve     bool
	dryRun      bool
}

func newRegister(e *Env, fs *flag.FlagSet) unit {
	c := &registerCmd{e: e}
	fs.StringVar(&c.group, "group", "", "model package group `NAME` (created when missing) (required)")
	fs.StringVar(&c.description, "description", "", "what this version is (default: the job's name)")
	fs.BoolVar(&c.approve, "approve", false, "register the version as Approved (default: PendingManualApproval)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the CreateModelPackageGroup/CreateModelPackage requests, say what would be looked up, and send nothing")
	return c
}

func (c *registerCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("register needs exactly one training job name")
	}
	job := args[0]
	if err := checkName("JOB", job, false); err != nil {
		return err
	}
	if c.group == "" {
		return usageError("--group is required: the model package group the version goes into")
	}
	if err := checkName("--group", c.group, false); err != nil {
		return err
	}
	if len(c.description) > 1024 {
		return usageError("--description: longer than 1024 characters")
	}
	cl, err := c.e.awsOrDryRun(ctx, c.dryRun)
	if err != nil {
		return err
	}
	d, err := c.e.describeJob(ctx, cl, job)
	if err != nil {
		return err
	}
	if d.TrainingJobStatus != types.TrainingJobStatusCompleted || d.ModelArtifacts == nil {
		return fmt.Errorf("training job %s is %s; register needs a Completed job", job, d.TrainingJobStatus)
	}
	in := packageInput(c.group, job, c.description, d, c.approve)
	createGroup := false
	if _, err := cl.SageMaker.DescribeModelPackageGroup(ctx, &sagemaker.DescribeModelPackageGroupInput{ModelPackageGroupName: aws.String(c.group)}); err != nil {
		if apiErrorCode(err) != "ValidationException" || !strings.Contains(err.Error(), "does not exist") {
			return fmt.Errorf("describe model package group %s: %w", c.group, err)
		}
		createGroup = true
	}
	apply := func(sm *sagemaker.Client) (string, error) {
		b := c.e.newBackoff()
		if createGroup {
			err := b.do(ctx, c.group, func() error {
				_, err := sm.CreateModelPackageGroup(ctx, &sagemaker.CreateModelPackageGroupInput{
					ModelPackageGroupName: aws.String(c.group), Tags: c.e.defaultTags()})
				return err
			})
			if err != nil {
				return "", fmt.Errorf("create model package group %s: %w", c.group, err)
			}
		}
		var out *sagemaker.CreateModelPackageOutput
		err := b.do(ctx, c.group, func() error {
			var err error
			out, err = sm.CreateModelPackage(ctx, in)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("create model package in %s: %w", c.group, err)
		}
		return aws.ToString(out.ModelPackageArn), nil
	}
	if c.dryRun {
		return printDryRun(ctx, c.e, func(sm *sagemaker.Client) error { _, err := apply(sm); return err })
	}
	arn, err := apply(cl.SageMaker)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.Stdout, "registered %s as %s (%s)\n", job, arn, in.ModelApprovalStatus)
	if !c.approve {
		fmt.Fprintf(c.e.Stdout, "approve it with: launcher approve %s\n", arn)
	}
	return nil
}

// packageInput describes the job's model: image, artifacts, content types and
// final metrics (as metadata, since ModelMetrics takes reports on S3).
func packageInput(group, job, description string, d *sagemaker.DescribeTrainingJobOutput, approve bool) *sagemaker.CreateModelPackageInput {
	if description == "" {
		description = "training job " + job
	}
	meta := map[string]string{metaTrainingJob: job}
	for _, m := range d.FinalMetricDataList {
		if len(meta) >= maxMetadata {
			break
		}
		if m.MetricName != nil && m.Value != nil {
			meta[metaMetricPrefix+aws.ToString(m.MetricName)] = strconv.FormatFloat(float64(*m.Value), 'g', 6, 32)
		}
	}
	status := types.ModelApprovalStatusPendingManualApproval
	if approve {
		status = types.ModelApprovalStatusApproved
	}
	var image string
	if d.AlgorithmSpecification != nil {
		image = aws.ToString(d.AlgorithmSpecification.TrainingImage)
	}
	return &sagemaker.CreateModelPackageInput{
		ModelPackageGroupName:   aws.String(group),
		ModelPackageDescription: aws.String(description),
		ModelApprovalStatus:     status,
		InferenceSpecification: &types.InferenceSpecification{
			Containers:                 []types.ModelPackageContainerDefinition{{Image: aws.String(image), ModelDataUrl: d.ModelArtifacts.S3ModelArtifacts}},
			SupportedContentTypes:      servedTypes,
			SupportedResponseMIMETypes: servedTypes,
		},
		CustomerMetadataProperties: meta,
		MetadataProperties:         &types.MetadataProperties{GeneratedBy: d.TrainingJobArn},
	}
}

// approveCmd sets a version's approval status.
type approveCmd struct {
	e      *Env
	reject bool
	reason string
}

func newApprove(e *Env, fs *flag.FlagSet) unit {
	c := &approveCmd{e: e}
	fs.BoolVar(&c.reject, "reject", false, "mark the version Rejected instead")
	fs.StringVar(&c.reason, "reason", "", "approval description (who checked what)")
	return c
}

func (c *approveCmd) Exec(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("approve needs exactly one model package: GROUP/VERSION or its ARN")
	}
	if len(c.reason) > 1024 {
		return usageError("--reason: longer than 1024 characters")
	}
	ref := args[0]
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		m := rePackageRef.FindStringSubmatch(ref)
		if m == nil || m[4] == "" {
			return usagef("approve %q: expected GROUP/VERSION or a model package ARN", ref)
		}
		if arn, err = c.e.findVersion(ctx, cl, m[1], m[4]); err != nil {
			return err
		}
	}
	status := types.ModelApprovalStatusApproved
	if c.reject {
		status = types.ModelApprovalStatusRejected
	}
	in := &sagemaker.UpdateModelPackageInput{ModelPackageArn: aws.String(arn), ModelApprovalStatus: status, ApprovalDescription: optString(c.reason)}
	if err := c.e.newBackoff().do(ctx, arn, func() error { _, err := cl.SageMaker.UpdateModelPackage(ctx, in); return err }); err != nil {
		return fmt.Errorf("update model package %s: %w", arn, err)
	}
	fmt.Fprintf(c.e.Stdout, "%s is %s\n", arn, status)
	return nil
}

// modelsCmd lists a group's versions with status and metrics.
type modelsCmd struct {
	e     *Env
	group string
}

func newModels(e *Env, fs *flag.FlagSet) unit {
	c := &modelsCmd{e: e}
	fs.StringVar(&c.group, "group", "", "model package group `NAME` (required)")
	return c
}

func (c *modelsCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("models: unexpected argument %q", args[0])
	}
	if c.group == "" {
		return usageError("--group is required: the model package group to list")
	}
	cl, err := c.e.aws(ctx)
	if err != nil {
		return err
	}
	vs, err := c.e.listVersions(ctx, cl, c.group, "")
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintf(c.e.Stdout, "model package group %s has no versions\n", c.group)
		return nil
	}
	tw := tabwriter.NewWriter(c.e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATUS\tCREATED\tJOB\tMETRICS")
	for _, v := range vs {
		arn := aws.ToString(v.ModelPackageArn)
		d, err := c.e.describePackage(ctx, cl, arn)
		if err != nil {
			return err
		}
		var metrics []string
		for k, val := range sortedMap(d.CustomerMetadataProperties) {
			if name, ok := strings.CutPrefix(k, metaMetricPrefix); ok {
				metrics = append(metrics, name+"="+val)
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", aws.ToInt32(v.ModelPackageVersion), v.ModelApprovalStatus,
			fmtTime(v.CreationTime), d.CustomerMetadataProperties[metaTrainingJob], strings.Join(metrics, " "))
	}
	return tw.Flush()
}
