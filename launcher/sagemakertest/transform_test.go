package sagemakertest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

func validTransform(name, model string) *sagemaker.CreateTransformJobInput {
	return &sagemaker.CreateTransformJobInput{
		TransformJobName: aws.String(name), ModelName: aws.String(model),
		TransformInput: &types.TransformInput{DataSource: &types.TransformDataSource{S3DataSource: &types.TransformS3DataSource{
			S3DataType: types.S3DataTypeS3Prefix, S3Uri: aws.String("s3://b/in/")}}, ContentType: aws.String("text/csv"), SplitType: types.SplitTypeLine},
		TransformOutput:    &types.TransformOutput{S3OutputPath: aws.String("s3://b/out/"), AssembleWith: types.AssemblyTypeLine},
		TransformResources: &types.TransformResources{InstanceType: types.TransformInstanceTypeMlM5Large, InstanceCount: aws.Int32(1)},
	}
}

func TestTransformJobs(t *testing.T) {
	srv := sagemakertest.New(sagemakertest.WithEndpoints(sagemakertest.EndpointOptions{}), sagemakertest.WithTransforms(sagemakertest.TransformOptions{}))
	defer srv.Close()
	sm, _ := clients(srv)
	ctx := context.Background()
	if _, err := sm.CreateTransformJob(ctx, validTransform("t-1", "no-model")); err == nil || !strings.Contains(err.Error(), "Could not find model") {
		t.Errorf("missing model: %v", err)
	}
	if _, err := sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("m"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/R"),
		PrimaryContainer: &types.ContainerDefinition{Image: aws.String("img:1")}}); err != nil {
		t.Fatal(err)
	}
	bad := validTransform("t-2", "m")
	bad.MaxPayloadInMB, bad.MaxConcurrentTransforms = aws.Int32(60), aws.Int32(2)
	bad.TransformResources.InstanceType = "ml.t2.medium"
	_, err := sm.CreateTransformJob(ctx, bad)
	if code(err) != "ValidationException" || !strings.Contains(err.Error(), "2 validation errors") {
		t.Errorf("bad request: %v", err)
	}
	if _, err := sm.CreateTransformJob(ctx, validTransform("t-3", "m")); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateTransformJob(ctx, validTransform("t-3", "m")); code(err) != "ResourceInUse" {
		t.Errorf("duplicate name: %v", err)
	}
	var status types.TransformJobStatus
	for range 3 {
		out, err := sm.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String("t-3")})
		if err != nil {
			t.Fatal(err)
		}
		status = out.TransformJobStatus
	}
	if status != types.TransformJobStatusCompleted {
		t.Errorf("status %s", status)
	}
}
