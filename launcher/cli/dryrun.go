package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// dryRunLookup marks every value a dry run made up instead of looking it up.
const dryRunLookup = "dry-run-lookup"

// lookupRecorder answers a dry run's reads (DescribeTrainingJob, DescribeEndpoint, ...)
// without sending them: each read is printed to stderr as what would be looked up, and
// answered with placeholders holding dryRunLookup, so the printed requests show where
// the looked-up values go. A dry run thus needs no credentials and no network.
type lookupRecorder struct {
	stderr io.Writer
}

func (r *lookupRecorder) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	var in map[string]string
	json.Unmarshal(body, &in) // string members only: the names looked up
	resp := "{}"
	switch op {
	case "DescribeTrainingJob":
		fmt.Fprintf(r.stderr, "dry run: would look up training job %s (DescribeTrainingJob) for its model artifacts, image and role; %s stands for them below\n", in["TrainingJobName"], dryRunLookup)
		resp = jsonObject(map[string]any{
			"TrainingJobName":        in["TrainingJobName"],
			"TrainingJobStatus":      "Completed",
			"ModelArtifacts":         map[string]string{"S3ModelArtifacts": "s3://" + dryRunLookup + "/" + in["TrainingJobName"] + "/output/model.tar.gz"},
			"AlgorithmSpecification": map[string]string{"TrainingImage": "000000000000.dkr.ecr.us-east-1.amazonaws.com/" + dryRunLookup + ":latest", "TrainingInputMode": "File"},
			"RoleArn":                "arn:aws:iam::000000000000:role/" + dryRunLookup,
		})
	case "DescribeModel":
		fmt.Fprintf(r.stderr, "dry run: would look up %s as a SageMaker model (DescribeModel), else as a training job, which gets a CreateModel from its artifacts first; shown as a model\n", in["ModelName"])
		resp = jsonObject(map[string]any{"ModelName": in["ModelName"]})
	case "DescribeEndpoint":
		fmt.Fprintf(r.stderr, "dry run: would look up endpoint %s (DescribeEndpoint) for its configuration; %s stands for it below\n", in["EndpointName"], dryRunLookup)
		resp = jsonObject(map[string]any{"EndpointName": in["EndpointName"], "EndpointStatus": "InService", "EndpointConfigName": dryRunLookup + "-config"})
	case "DescribeEndpointConfig":
		fmt.Fprintf(r.stderr, "dry run: would look up endpoint configuration %s (DescribeEndpointConfig) for its models\n", in["EndpointConfigName"])
		resp = jsonObject(map[string]any{"EndpointConfigName": in["EndpointConfigName"],
			"ProductionVariants": []map[string]string{{"VariantName": "AllTraffic", "ModelName": dryRunLookup + "-model"}}})
	case "DescribeModelPackageGroup":
		fmt.Fprintf(r.stderr, "dry run: would look up model package group %s (DescribeModelPackageGroup); shown as existing (a missing one gets CreateModelPackageGroup first)\n", in["ModelPackageGroupName"])
		resp = jsonObject(map[string]any{"ModelPackageGroupName": in["ModelPackageGroupName"]})
	case "ListModelPackages":
		fmt.Fprintf(r.stderr, "dry run: would list the versions of model package group %s (ListModelPackages); the latest approved is shown as version 0\n", in["ModelPackageGroupName"])
		resp = jsonObject(map[string]any{"ModelPackageSummaryList": []map[string]any{{
			"ModelPackageArn":     dryRunPackageArn(in["ModelPackageGroupName"], "0"),
			"ModelPackageVersion": 0, "ModelPackageGroupName": in["ModelPackageGroupName"],
			"ModelApprovalStatus": "Approved", "ModelPackageStatus": "Completed", "CreationTime": 0}}})
	case "DescribeModelPackage":
		fmt.Fprintf(r.stderr, "dry run: would look up model package %s (DescribeModelPackage); shown as Approved\n", in["ModelPackageName"])
		resp = jsonObject(map[string]any{"ModelPackageArn": in["ModelPackageName"], "ModelApprovalStatus": "Approved", "ModelPackageStatus": "Completed"})
	default:
		return nil, fmt.Errorf("dry run: %s is not a lookup a dry run answers", op)
	}
	return dryRunResponse(req, resp), nil
}

// dryRunPackageArn is the placeholder ARN of a model package version in a dry run.
func dryRunPackageArn(group, version string) string {
	return "arn:aws:sagemaker:us-east-1:000000000000:model-package/" + group + "/" + version
}

func jsonObject(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// dryRunLookups returns clients whose SageMaker reads lookupRecorder answers; they need
// no AWS configuration and send nothing.
func (e *Env) dryRunLookups() *Clients {
	return &Clients{dryRun: true, SageMaker: dryRunClient(&lookupRecorder{stderr: e.Stderr})}
}

// awsOrDryRun returns the real clients, or in a dry run the offline lookups.
func (e *Env) awsOrDryRun(ctx context.Context, dryRun bool) (*Clients, error) {
	if dryRun {
		return e.dryRunLookups(), nil
	}
	return e.aws(ctx)
}
