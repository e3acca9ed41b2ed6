// Package sagemakertest is an in-process SageMaker API and CloudWatch Logs test
// server for the launcher's tests. It speaks the protocol aws-sdk-go-v2 uses
// (awsJson1_1: POST /, X-Amz-Target: <Service>.<Operation>, epoch-second
// timestamps, typed errors as HTTP 400 with __type), keeps training and tuning
// job state, enforces the documented request constraints and can inject
// ThrottlingException and ResourceLimitExceeded.
//
// It is a public testing aid, not launcher internals: any code that drives SageMaker
// through aws-sdk-go-v2 can point its client at it (BaseEndpoint) and test without AWS,
// which is why it lives outside launcher/internal.
//
// # Jobs
//
// Training jobs move InProgress → Completed/Failed/Stopped through the secondary
// statuses Starting, Downloading, Training, Uploading. Time is counted in
// requests, not seconds: every SageMaker request advances every running job by one
// tick, so a test's polling loop drives the jobs and runs in milliseconds. The
// outcome (status, final metrics, billable seconds) comes from an Outcome function
// (WithOutcome); the default one derives a deterministic validation:rmse from the
// hyperparameters. When a job starts training the server writes its log lines to
// the CloudWatch Logs store under /aws/sagemaker/TrainingJobs, stream
// "<job>/algo-1-<epoch>".
//
// # Adding operations from another file
//
// Operations are dispatched through a map from X-Amz-Target to a HandlerFunc, so
// another file adds operations without touching the core:
//
//	srv := sagemakertest.New(sagemakertest.WithHandler("SageMaker.CreateModel", fn))
//	srv.Handle("SageMaker.DescribeEndpoint", fn2)
//
// A handler gets the raw JSON body and returns a value marshalled as the response
// body, or an *Error (400 with __type); the server's lock is held while it runs.
// A file of this package that adds a family of operations exports an Option that
// registers them with WithOps, as endpoints.go does with WithEndpoints (its state
// hangs off the Server's endpointsHook field). Options run after the built-in
// operations are registered, so later registrations win. Non-JSON protocols
// (sagemakerruntime's REST InvokeEndpoint) use HandleHTTP with a path pattern on
// the same listener.
package sagemakertest
