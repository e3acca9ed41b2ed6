package sagemakertest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"
	"github.com/aws/smithy-go"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

const (
	hostRole  = "arn:aws:iam::123456789012:role/BlueBloodSageMaker"
	hostImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/blueblood:1"
)

func hostingClients(t *testing.T, opt sagemakertest.EndpointOptions) (*sagemakertest.Server, *sagemaker.Client, *sagemakerruntime.Client) {
	t.Helper()
	srv := sagemakertest.New(sagemakertest.WithEndpoints(opt))
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}
	return srv, sagemaker.NewFromConfig(cfg), sagemakerruntime.NewFromConfig(cfg)
}

func createAll(t *testing.T, sm *sagemaker.Client, model, config, endpoint string) {
	t.Helper()
	ctx := context.Background()
	if _, err := sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String(model), ExecutionRoleArn: aws.String(hostRole),
		PrimaryContainer: &types.ContainerDefinition{Image: aws.String(hostImage), ModelDataUrl: aws.String("s3://bucket/job/output/model.tar.gz")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String(config),
		ProductionVariants: []types.ProductionVariant{{VariantName: aws.String("AllTraffic"), ModelName: aws.String(model),
			InstanceType: types.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)}}}); err != nil {
		t.Fatal(err)
	}
	if endpoint != "" {
		if _, err := sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String(endpoint), EndpointConfigName: aws.String(config)}); err != nil {
			t.Fatal(err)
		}
	}
}

func describeStatus(t *testing.T, sm *sagemaker.Client, name string) (types.EndpointStatus, *sagemaker.DescribeEndpointOutput, error) {
	t.Helper()
	out, err := sm.DescribeEndpoint(context.Background(), &sagemaker.DescribeEndpointInput{EndpointName: aws.String(name)})
	if err != nil {
		return "", nil, err
	}
	return out.EndpointStatus, out, nil
}

func TestEndpointLifecycle(t *testing.T) {
	srv, sm, _ := hostingClients(t, sagemakertest.EndpointOptions{Steps: 2})
	ctx := context.Background()
	createAll(t, sm, "m1", "c1", "ep")
	var seen []types.EndpointStatus
	for i := 0; i < 3; i++ {
		st, _, err := describeStatus(t, sm, "ep")
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, st)
	}
	if got := joinStatus(seen); got != "Creating,InService,InService" {
		t.Fatalf("statuses %s, want Creating,InService,InService", got)
	}

	createAll(t, sm, "m2", "c2", "")
	if _, err := sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("ep"), EndpointConfigName: aws.String("c2")}); err != nil {
		t.Fatal(err)
	}
	// a second update while one is in progress is refused
	_, err := sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("ep"), EndpointConfigName: aws.String("c2")})
	wantAPIError(t, err, "ValidationException", "Cannot update in-progress endpoint")
	st, out, _ := describeStatus(t, sm, "ep")
	if st != types.EndpointStatusUpdating || aws.ToString(out.EndpointConfigName) != "c1" {
		t.Fatalf("during update: %s with %s, want Updating with c1", st, aws.ToString(out.EndpointConfigName))
	}
	st, out, _ = describeStatus(t, sm, "ep")
	if st != types.EndpointStatusInService || aws.ToString(out.EndpointConfigName) != "c2" || len(out.ProductionVariants) != 1 {
		t.Fatalf("after update: %s with %s %v, want InService with c2", st, aws.ToString(out.EndpointConfigName), out.ProductionVariants)
	}

	if _, err := sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String("ep")}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := describeStatus(t, sm, "ep"); st != types.EndpointStatusDeleting {
		t.Fatalf("after delete: %s, want Deleting", st)
	}
	_, _, err = describeStatus(t, sm, "ep")
	wantAPIError(t, err, "ValidationException", `Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep"`)
	if srv.EndpointStatus("ep") != "" {
		t.Fatal("endpoint still listed after deletion")
	}
	for _, c := range []string{"c1", "c2"} {
		if _, err := sm.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String(c)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"m1", "m2"} {
		if _, err := sm.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: aws.String(m)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(srv.HostedModels())+len(srv.EndpointConfigs()) != 0 {
		t.Fatalf("left over: %v %v", srv.HostedModels(), srv.EndpointConfigs())
	}
}

func TestEndpointFailure(t *testing.T) {
	_, sm, _ := hostingClients(t, sagemakertest.EndpointOptions{Steps: 1, FailureReason: "The primary container for production variant AllTraffic did not pass the ping health check."})
	createAll(t, sm, "m1", "c1", "ep")
	st, out, err := describeStatus(t, sm, "ep")
	if err != nil {
		t.Fatal(err)
	}
	if st != types.EndpointStatusFailed || !strings.Contains(aws.ToString(out.FailureReason), "ping health check") {
		t.Fatalf("status %s reason %q, want Failed with the reason", st, aws.ToString(out.FailureReason))
	}
}

func TestHostingValidation(t *testing.T) {
	_, sm, _ := hostingClients(t, sagemakertest.EndpointOptions{})
	ctx := context.Background()
	createAll(t, sm, "m1", "c1", "")
	variant := func(mod func(*types.ProductionVariant)) []types.ProductionVariant {
		v := types.ProductionVariant{VariantName: aws.String("AllTraffic"), ModelName: aws.String("m1"),
			InstanceType: types.ProductionVariantInstanceTypeMlM5Large, InitialInstanceCount: aws.Int32(1)}
		mod(&v)
		return []types.ProductionVariant{v}
	}
	tests := []struct {
		name     string
		call     func() error
		code     string
		contains string
	}{
		{"model name with underscore", func() error {
			_, err := sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("my_model"), ExecutionRoleArn: aws.String(hostRole),
				PrimaryContainer: &types.ContainerDefinition{Image: aws.String(hostImage)}})
			return err
		}, "ValidationException", "Value 'my_model' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"bad role and model URL", func() error {
			_, err := sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("m9"), ExecutionRoleArn: aws.String("arn:aws:iam::1:role/x"),
				PrimaryContainer: &types.ContainerDefinition{Image: aws.String(hostImage), ModelDataUrl: aws.String("ftp://x/model.tar.gz")}})
			return err
		}, "ValidationException", "2 validation errors detected"},
		{"too many environment entries", func() error {
			env := map[string]string{}
			for _, k := range strings.Fields("A B C D E F G H I J K L M N O P Q") {
				env[k] = "1"
			}
			_, err := sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("m9"), ExecutionRoleArn: aws.String(hostRole),
				PrimaryContainer: &types.ContainerDefinition{Image: aws.String(hostImage), Environment: env}})
			return err
		}, "ValidationException", "have length less than or equal to 16"},
		{"duplicate model", func() error {
			_, err := sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("m1"), ExecutionRoleArn: aws.String(hostRole),
				PrimaryContainer: &types.ContainerDefinition{Image: aws.String(hostImage)}})
			return err
		}, "ValidationException", "Cannot create already existing model"},
		{"config for a missing model", func() error {
			_, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("c9"),
				ProductionVariants: variant(func(v *types.ProductionVariant) { v.ModelName = aws.String("nope") })})
			return err
		}, "ValidationException", `Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/nope"`},
		{"unknown instance type", func() error {
			_, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("c9"),
				ProductionVariants: variant(func(v *types.ProductionVariant) { v.InstanceType = "ml.m5.huge" })})
			return err
		}, "ValidationException", "productionVariants.1.member.instanceType"},
		{"instance and serverless", func() error {
			_, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("c9"),
				ProductionVariants: variant(func(v *types.ProductionVariant) {
					v.ServerlessConfig = &types.ProductionVariantServerlessConfig{MemorySizeInMB: aws.Int32(2048), MaxConcurrency: aws.Int32(5)}
				})})
			return err
		}, "ValidationException", "not be set together with serverlessConfig"},
		{"serverless memory", func() error {
			_, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("c9"),
				ProductionVariants: variant(func(v *types.ProductionVariant) {
					v.InstanceType, v.InitialInstanceCount = "", nil
					v.ServerlessConfig = &types.ProductionVariantServerlessConfig{MemorySizeInMB: aws.Int32(1500), MaxConcurrency: aws.Int32(500)}
				})})
			return err
		}, "ValidationException", "2 validation errors detected"},
		{"duplicate config", func() error {
			_, err := sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("c1"), ProductionVariants: variant(func(*types.ProductionVariant) {})})
			return err
		}, "ValidationException", "Cannot create already existing endpoint configuration"},
		{"endpoint with a missing config", func() error {
			_, err := sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("ep"), EndpointConfigName: aws.String("c9")})
			return err
		}, "ValidationException", "Could not find endpoint configuration"},
		{"update a missing endpoint", func() error {
			_, err := sm.UpdateEndpoint(ctx, &sagemaker.UpdateEndpointInput{EndpointName: aws.String("ghost"), EndpointConfigName: aws.String("c1")})
			return err
		}, "ValidationException", "Could not find endpoint"},
		{"delete a missing model", func() error {
			_, err := sm.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: aws.String("ghost")})
			return err
		}, "ValidationException", "Could not find model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.call(), tc.code, tc.contains) })
	}
}

func TestInvokeEndpoint(t *testing.T) {
	container := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/invocations" || r.Method != http.MethodPost {
			http.Error(w, "wrong route "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			io.WriteString(w, `{"error":"unsupported"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"echo":`+string(body)+`}`)
	})
	srv, sm, rt := hostingClients(t, sagemakertest.EndpointOptions{Container: container, Steps: 1})
	ctx := context.Background()
	invoke := func(name, ct string, body string) (*sagemakerruntime.InvokeEndpointOutput, error) {
		return rt.InvokeEndpoint(ctx, &sagemakerruntime.InvokeEndpointInput{EndpointName: aws.String(name), ContentType: aws.String(ct),
			Accept: aws.String(ct), Body: []byte(body)})
	}

	_, err := invoke("ep", "application/json", `{}`)
	wantAPIError(t, err, "ValidationError", "Endpoint ep of account 123456789012 not found")

	createAll(t, sm, "m1", "c1", "ep")
	_, err = invoke("ep", "application/json", `{}`)
	wantAPIError(t, err, "ValidationError", "not in service (status Creating)")
	describeStatus(t, sm, "ep") // one step: InService

	out, err := invoke("ep", "application/json", `{"x":1}`)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Body) != `{"echo":{"x":1}}` || aws.ToString(out.ContentType) != "application/json" || aws.ToString(out.InvokedProductionVariant) != "AllTraffic" {
		t.Fatalf("answer %s (%s, %s)", out.Body, aws.ToString(out.ContentType), aws.ToString(out.InvokedProductionVariant))
	}

	_, err = invoke("ep", "text/plain", `x`)
	var me *rttypes.ModelError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want *types.ModelError", err)
	}
	if aws.ToInt32(me.OriginalStatusCode) != 415 || aws.ToString(me.OriginalMessage) != `{"error":"unsupported"}` ||
		!strings.Contains(me.ErrorMessage(), "Received client error (415) from primary") {
		t.Fatalf("ModelError %d %q %q", aws.ToInt32(me.OriginalStatusCode), aws.ToString(me.OriginalMessage), me.ErrorMessage())
	}
	if n, ct, acc := srv.EndpointInvocations("ep"); n != 3 || ct != "text/plain" || acc != "text/plain" {
		t.Fatalf("invocations %d %q %q, want 3 text/plain text/plain", n, ct, acc)
	}
}

func wantAPIError(t *testing.T, err error, code, contains string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an API error %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), contains) {
		t.Fatalf("error %s: %q, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, contains)
	}
}

func joinStatus(s []types.EndpointStatus) string {
	var parts []string
	for _, x := range s {
		parts = append(parts, string(x))
	}
	return strings.Join(parts, ",")
}
