package sagemakertest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

func clients(srv *sagemakertest.Server) (*sagemaker.Client, *cloudwatchlogs.Client) {
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}
	return sagemaker.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
}

func validJob(name string) *sagemaker.CreateTrainingJobInput {
	return &sagemaker.CreateTrainingJobInput{
		TrainingJobName: aws.String(name),
		AlgorithmSpecification: &types.AlgorithmSpecification{
			TrainingImage: aws.String("img:1"), TrainingInputMode: types.TrainingInputModeFile,
		},
		RoleArn:         aws.String("arn:aws:iam::123456789012:role/R"),
		HyperParameters: map[string]string{"epochs": "3", "learning_rate": "0.01"},
		InputDataConfig: []types.Channel{{ChannelName: aws.String("train"), DataSource: &types.DataSource{
			S3DataSource: &types.S3DataSource{S3DataType: types.S3DataTypeS3Prefix, S3Uri: aws.String("s3://b/train/")}}}},
		OutputDataConfig:  &types.OutputDataConfig{S3OutputPath: aws.String("s3://b/out")},
		ResourceConfig:    &types.ResourceConfig{InstanceType: types.TrainingInstanceTypeMlM5Xlarge, InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(10)},
		StoppingCondition: &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(3600)},
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestLifecycleMetricsAndLogs(t *testing.T) {
	now := time.Date(2025, 11, 25, 18, 30, 0, 500_000_000, time.UTC)
	srv := sagemakertest.New(sagemakertest.WithClock(func() time.Time { return now }))
	defer srv.Close()
	sm, logs := clients(srv)
	ctx := context.Background()
	if _, err := sm.CreateTrainingJob(ctx, validJob("job-1")); err != nil {
		t.Fatal(err)
	}
	var statuses []string
	var out *sagemaker.DescribeTrainingJobOutput
	for range 10 {
		var err error
		out, err = sm.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("job-1")})
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, string(out.SecondaryStatus))
		if out.TrainingJobStatus == types.TrainingJobStatusCompleted {
			break
		}
	}
	if got := strings.Join(statuses, ","); got != "Downloading,Training,Uploading,Completed" {
		t.Errorf("secondary statuses seen = %s", got)
	}
	if !out.CreationTime.Equal(now) {
		t.Errorf("CreationTime = %v, want %v (epoch seconds with fraction)", out.CreationTime, now)
	}
	if got := aws.ToString(out.ModelArtifacts.S3ModelArtifacts); got != "s3://b/out/job-1/output/model.tar.gz" {
		t.Errorf("model = %s", got)
	}
	if len(out.SecondaryStatusTransitions) != 5 || len(out.FinalMetricDataList) == 0 || aws.ToInt32(out.BillableTimeInSeconds) == 0 {
		t.Errorf("transitions %d, metrics %d, billable %v", len(out.SecondaryStatusTransitions), len(out.FinalMetricDataList), out.BillableTimeInSeconds)
	}
	streams, err := logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{
		LogGroupName: aws.String(sagemakertest.TrainingJobLog), LogStreamNamePrefix: aws.String("job-1/")})
	if err != nil || len(streams.LogStreams) != 1 {
		t.Fatalf("streams %v, %v", streams, err)
	}
	ev, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(sagemakertest.TrainingJobLog),
		LogStreamName: streams.LogStreams[0].LogStreamName, StartFromHead: aws.Bool(true)})
	if err != nil || len(ev.Events) < 3 || !strings.Contains(aws.ToString(ev.Events[len(ev.Events)-1].Message), "validation:rmse=") {
		t.Fatalf("events %v, %v", ev, err)
	}
	again, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(sagemakertest.TrainingJobLog),
		LogStreamName: streams.LogStreams[0].LogStreamName, NextToken: ev.NextForwardToken})
	if err != nil || len(again.Events) != 0 || aws.ToString(again.NextForwardToken) != aws.ToString(ev.NextForwardToken) {
		t.Errorf("at the end: %d events, token %v → %v, %v", len(again.Events), ev.NextForwardToken, again.NextForwardToken, err)
	}
}

func TestValidationErrors(t *testing.T) {
	srv := sagemakertest.New()
	defer srv.Close()
	sm, _ := clients(srv)
	many := map[string]string{}
	for i := range 101 {
		many[strings.Repeat("k", i+1)] = "1"
	}
	tests := []struct {
		name   string
		mutate func(*sagemaker.CreateTrainingJobInput)
		want   string
	}{
		{"underscore name", func(in *sagemaker.CreateTrainingJobInput) { in.TrainingJobName = aws.String("a_b") }, "Value 'a_b' at 'trainingJobName'"},
		{"long name", func(in *sagemaker.CreateTrainingJobInput) { in.TrainingJobName = aws.String(strings.Repeat("a", 64)) }, "length less than or equal to 63"},
		{"role", func(in *sagemaker.CreateTrainingJobInput) { in.RoleArn = aws.String("role/MyRoleNameIsLong") }, "'roleArn'"},
		{"s3 output", func(in *sagemaker.CreateTrainingJobInput) {
			in.OutputDataConfig.S3OutputPath = aws.String("bucket/out")
		}, "'outputDataConfig.s3OutputPath'"},
		{"hp count", func(in *sagemaker.CreateTrainingJobInput) { in.HyperParameters = many }, "'hyperParameters' failed to satisfy constraint: Member must have length less than or equal to 100"},
		{"instance type", func(in *sagemaker.CreateTrainingJobInput) { in.ResourceConfig.InstanceType = "ml.bogus.large" }, "'resourceConfig.instanceType'"},
		{"spot without wait", func(in *sagemaker.CreateTrainingJobInput) { in.EnableManagedSpotTraining = aws.Bool(true) }, "maxWaitTimeInSeconds"},
		{"spot wait below runtime", func(in *sagemaker.CreateTrainingJobInput) {
			in.EnableManagedSpotTraining = aws.Bool(true)
			in.StoppingCondition.MaxWaitTimeInSeconds = aws.Int32(60)
		}, "greater than or equal to maxRuntimeInSeconds"},
		{"two errors", func(in *sagemaker.CreateTrainingJobInput) {
			in.TrainingJobName = aws.String("x.y")
			in.RoleArn = aws.String("nope-nope-nope-nope-nope")
		}, "2 validation errors detected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validJob("ok")
			tt.mutate(in)
			_, err := sm.CreateTrainingJob(context.Background(), in)
			if code(err) != "ValidationException" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ValidationException containing %q", err, tt.want)
			}
		})
	}
	if n := len(srv.TrainingJobNames()); n != 0 {
		t.Errorf("%d jobs created by invalid requests", n)
	}
}

func TestInjectedErrorsQuotaAndDuplicates(t *testing.T) {
	srv := sagemakertest.New(sagemakertest.WithQuota(1))
	defer srv.Close()
	sm, _ := clients(srv)
	ctx := context.Background()
	srv.Inject("SageMaker.CreateTrainingJob", 1, sagemakertest.Throttling())
	if _, err := sm.CreateTrainingJob(ctx, validJob("a")); code(err) != "ThrottlingException" {
		t.Fatalf("first call: %v, want ThrottlingException", err)
	}
	if _, err := sm.CreateTrainingJob(ctx, validJob("a")); err != nil {
		t.Fatal(err)
	}
	_, err := sm.CreateTrainingJob(ctx, validJob("b"))
	var rle *types.ResourceLimitExceeded
	if !errors.As(err, &rle) {
		t.Fatalf("over quota: %v, want *types.ResourceLimitExceeded", err)
	}
	_, err = sm.CreateTrainingJob(ctx, validJob("a"))
	var inUse *types.ResourceInUse
	if !errors.As(err, &inUse) {
		t.Fatalf("duplicate: %v, want *types.ResourceInUse", err)
	}
	if got := srv.Calls("SageMaker.CreateTrainingJob"); got != 4 {
		t.Errorf("calls = %d, want 4", got)
	}
}

func TestStopAndCustomHandler(t *testing.T) {
	called := false
	srv := sagemakertest.New(sagemakertest.WithHandler("SageMaker.DescribeEndpoint", func(ctx context.Context, body []byte) (any, error) {
		called = true
		return map[string]any{"EndpointName": "e", "EndpointStatus": "InService"}, nil
	}))
	defer srv.Close()
	sm, _ := clients(srv)
	ctx := context.Background()
	if _, err := sm.CreateTrainingJob(ctx, validJob("s")); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	out, err := sm.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("s")})
	if err != nil || out.TrainingJobStatus != types.TrainingJobStatusStopped {
		t.Fatalf("after stop: %v, %v", out.TrainingJobStatus, err)
	}
	ep, err := sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String("e")})
	if err != nil || !called || ep.EndpointStatus != types.EndpointStatusInService {
		t.Fatalf("custom handler: %v, %v, called=%v", ep, err, called)
	}
}
