package sagemakertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/launcher/sagemakertest"
	"github.com/blueblood/blueblood/pipeline/memstore"
)

func processingJob(name string) *sagemaker.CreateProcessingJobInput {
	return &sagemaker.CreateProcessingJobInput{
		ProcessingJobName: aws.String(name),
		RoleArn:           aws.String("arn:aws:iam::123456789012:role/R"),
		AppSpecification:  &types.AppSpecification{ImageUri: aws.String("img:1"), ContainerArguments: []string{"upper", "x"}},
		ProcessingResources: &types.ProcessingResources{ClusterConfig: &types.ProcessingClusterConfig{
			InstanceCount: aws.Int32(1), InstanceType: types.ProcessingInstanceTypeMlM5Xlarge, VolumeSizeInGB: aws.Int32(30)}},
		ProcessingInputs: []types.ProcessingInput{{InputName: aws.String("raw"), S3Input: &types.ProcessingS3Input{
			S3Uri: aws.String("s3://b/raw/"), LocalPath: aws.String("/opt/ml/processing/input/raw"),
			S3DataType: types.ProcessingS3DataTypeS3Prefix, S3InputMode: types.ProcessingS3InputModeFile}}},
		ProcessingOutputConfig: &types.ProcessingOutputConfig{Outputs: []types.ProcessingOutput{{OutputName: aws.String("out"),
			S3Output: &types.ProcessingS3Output{S3Uri: aws.String("s3://b/out"), LocalPath: aws.String("/opt/ml/processing/output/out"),
				S3UploadMode: types.ProcessingS3UploadModeEndOfJob}}}},
		StoppingCondition: &types.ProcessingStoppingCondition{MaxRuntimeInSeconds: aws.Int32(3600)},
		Environment:       map[string]string{"MODE": "ok"},
	}
}

// fakeContainer upper-cases every input file into the output, logs, and fails or waits
// for a stop as its MODE variable says.
func fakeContainer(ctx context.Context, r sagemakertest.ContainerRun) (int, error) {
	p := optml.Paths{Root: r.Root}
	var cfg optml.ProcessingJobConfig
	b, err := os.ReadFile(p.ProcessingConfig())
	if err != nil || json.Unmarshal(b, &cfg) != nil {
		return 0, fmt.Errorf("config: %v", err)
	}
	fmt.Fprintf(r.Log, "args %s\njob %s\n", strings.Join(r.Arguments, " "), cfg.ProcessingJobName)
	switch r.Env["MODE"] {
	case "fail":
		os.WriteFile(p.ExitMessage(), []byte("bad row 3 in a.csv\n"), 0o644)
		return 1, nil
	case "wait":
		<-ctx.Done()
		return 130, nil
	}
	in, _ := p.Local(cfg.ProcessingInputs[0].S3Input.LocalPath)
	out, _ := p.Local(cfg.ProcessingOutputConfig.Outputs[0].S3Output.LocalPath)
	return 0, filepath.WalkDir(in, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(in, path)
		data, _ := os.ReadFile(path)
		dst := filepath.Join(out, rel)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		return os.WriteFile(dst, bytes.ToUpper(data), 0o644)
	})
}

func processingServer(t *testing.T) (*sagemakertest.Server, *memstore.Store, *sagemaker.Client, *cloudwatchlogs.Client) {
	t.Helper()
	store := memstore.New(map[string][]byte{"b/raw/a.csv": []byte("x,y\n"), "b/raw/sub/b.csv": []byte("z\n")})
	srv := sagemakertest.New(sagemakertest.WithProcessing(sagemakertest.ProcessingOptions{Run: fakeContainer, Store: store}))
	t.Cleanup(func() { srv.WaitProcessing(); srv.Close() })
	sm, logs := clients(srv)
	return srv, store, sm, logs
}

func waitJob(t *testing.T, sm *sagemaker.Client, name string) *sagemaker.DescribeProcessingJobOutput {
	t.Helper()
	for range 10000 {
		out, err := sm.DescribeProcessingJob(context.Background(), &sagemaker.DescribeProcessingJobInput{ProcessingJobName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		switch out.ProcessingJobStatus {
		case types.ProcessingJobStatusCompleted, types.ProcessingJobStatusFailed, types.ProcessingJobStatusStopped:
			return out
		}
	}
	t.Fatal("job did not end")
	return nil
}

func TestProcessingJobRunsDownloadsAndUploads(t *testing.T) {
	srv, store, sm, logs := processingServer(t)
	ctx := context.Background()
	if _, err := sm.CreateProcessingJob(ctx, processingJob("prep-1")); err != nil {
		t.Fatal(err)
	}
	out := waitJob(t, sm, "prep-1")
	if out.ProcessingJobStatus != types.ProcessingJobStatusCompleted || out.ProcessingEndTime == nil || out.FailureReason != nil {
		t.Fatalf("status %s, failure %v", out.ProcessingJobStatus, aws.ToString(out.FailureReason))
	}
	got := strings.Join(store.Keys(), " ")
	if got != "b/out/a.csv b/out/sub/b.csv b/raw/a.csv b/raw/sub/b.csv" {
		t.Errorf("objects after the job: %s", got)
	}
	if b, _ := store.Get(ctx, "b", "out/sub/b.csv"); b != nil {
		if data, _ := io.ReadAll(b); string(data) != "Z\n" {
			t.Errorf("output %q", data)
		}
	}
	streams, err := logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(sagemakertest.ProcessingJobLog), LogStreamNamePrefix: aws.String("prep-1/")})
	if err != nil || len(streams.LogStreams) != 1 {
		t.Fatalf("log streams %v %v", streams, err)
	}
	ev, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(sagemakertest.ProcessingJobLog), LogStreamName: streams.LogStreams[0].LogStreamName, StartFromHead: aws.Bool(true)})
	if err != nil || len(ev.Events) != 2 || aws.ToString(ev.Events[0].Message) != "args upper x" {
		t.Errorf("log events %+v %v", ev, err)
	}
	list, err := sm.ListProcessingJobs(ctx, &sagemaker.ListProcessingJobsInput{StatusEquals: types.ProcessingJobStatusCompleted})
	if err != nil || len(list.ProcessingJobSummaries) != 1 || aws.ToString(list.ProcessingJobSummaries[0].ProcessingJobName) != "prep-1" {
		t.Errorf("list %+v %v", list, err)
	}
	if _, err := sm.CreateProcessingJob(ctx, processingJob("prep-1")); code(err) != "ResourceInUse" {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := sm.DescribeProcessingJob(ctx, &sagemaker.DescribeProcessingJobInput{ProcessingJobName: aws.String("nope")}); code(err) != "ResourceNotFound" {
		t.Errorf("missing job: %v", err)
	}
	if len(srv.ProcessingJobs()) != 1 {
		t.Errorf("ProcessingJobs: %v", srv.ProcessingJobs())
	}
}

func TestProcessingJobFailureAndStop(t *testing.T) {
	_, store, sm, _ := processingServer(t)
	ctx := context.Background()
	in := processingJob("prep-fail")
	in.Environment["MODE"] = "fail"
	if _, err := sm.CreateProcessingJob(ctx, in); err != nil {
		t.Fatal(err)
	}
	out := waitJob(t, sm, "prep-fail")
	if out.ProcessingJobStatus != types.ProcessingJobStatusFailed || aws.ToString(out.ExitMessage) != "bad row 3 in a.csv\n" ||
		!strings.HasPrefix(aws.ToString(out.FailureReason), "AlgorithmError") {
		t.Errorf("status %s exit message %q failure %q", out.ProcessingJobStatus, aws.ToString(out.ExitMessage), aws.ToString(out.FailureReason))
	}
	in = processingJob("prep-stop")
	in.Environment["MODE"] = "wait"
	if _, err := sm.CreateProcessingJob(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.StopProcessingJob(ctx, &sagemaker.StopProcessingJobInput{ProcessingJobName: aws.String("prep-stop")}); err != nil {
		t.Fatal(err)
	}
	if out := waitJob(t, sm, "prep-stop"); out.ProcessingJobStatus != types.ProcessingJobStatusStopped {
		t.Errorf("stopped job ends %s", out.ProcessingJobStatus)
	}
	for _, k := range store.Keys() {
		if strings.HasPrefix(k, "b/out/") {
			t.Errorf("a failed or stopped job uploaded %s", k)
		}
	}
	if _, err := sm.StopProcessingJob(ctx, &sagemaker.StopProcessingJobInput{ProcessingJobName: aws.String("prep-stop")}); code(err) != "ValidationException" {
		t.Errorf("stop of a stopped job: %v", err)
	}
}

func TestProcessingJobValidation(t *testing.T) {
	_, _, sm, _ := processingServer(t)
	in := processingJob("bad_name")
	in.ProcessingInputs[0].S3Input.LocalPath = aws.String("/data/raw")
	in.ProcessingInputs[0].S3Input.S3CompressionType = types.ProcessingS3CompressionTypeGzip
	in.ProcessingResources.ClusterConfig.InstanceType = "ml.tiny"
	in.StoppingCondition.MaxRuntimeInSeconds = aws.Int32(777601)
	in.AppSpecification.ContainerArguments = []string{strings.Repeat("a", 257)}
	for i := range 10 {
		in.ProcessingInputs = append(in.ProcessingInputs, types.ProcessingInput{InputName: aws.String(fmt.Sprint("in", i)), S3Input: in.ProcessingInputs[0].S3Input})
	}
	_, err := sm.CreateProcessingJob(context.Background(), in)
	if code(err) != "ValidationException" {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"'processingJobName' failed", "processingInputs.1.member.s3Input.localPath' failed to satisfy constraint: Member must begin with /opt/ml/processing/",
		"s3CompressionType", "clusterConfig.instanceType", "maxRuntimeInSeconds", "containerArguments.1.member", "at 'processingInputs' failed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validation error lacks %q:\n%v", want, err)
		}
	}
}
