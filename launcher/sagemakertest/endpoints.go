package sagemakertest

// Hosting: CreateModel, CreateEndpointConfig, CreateEndpoint/UpdateEndpoint and their
// Describe/Delete operations, plus the SageMaker runtime's InvokeEndpoint (REST JSON,
// POST /endpoints/{name}/invocations) on the same listener. Add them with
//
//	srv := sagemakertest.New(sagemakertest.WithEndpoints(sagemakertest.EndpointOptions{Container: h}))
//
// and inspect the hosting state through the Server's Endpoint* methods.
//
// Endpoints move Creating → InService (or Failed), Updating → InService and
// Deleting → gone, one step per DescribeEndpoint call of that endpoint, so a test's
// wait loop drives them. Errors follow the real service: a missing model, config or
// endpoint is a ValidationException ("Could not find ..."), a duplicate name is a
// ValidationException ("Cannot create already existing ..."), and InvokeEndpoint on a
// container that answers an error becomes a ModelError (HTTP 424) carrying the
// container's status and message.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"time"
)

// EndpointOptions configures the hosting operations.
type EndpointOptions struct {
	// Container answers InvokeEndpoint for every InService endpoint the way the model
	// container would: it receives POST /invocations with the caller's body and
	// Content-Type/Accept headers. nil answers 200 with the request body echoed.
	Container http.Handler
	// FailureReason, when set, makes endpoint creation and updates end Failed with it
	// (as when the container never passes /ping).
	FailureReason string
	// Steps is how many DescribeEndpoint calls an endpoint spends in each transient
	// status (default 2).
	Steps int
}

var (
	reResourceName = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	reModelURL     = regexp.MustCompile(`^(https|s3)://([^/]+)/?(.*)$`)
	reImage        = regexp.MustCompile(`^[\S]+$`)
)

// Serverless memory sizes the service accepts.
var serverlessMemory = []float64{1024, 2048, 3072, 4096, 5120, 6144}

type hostedModel struct {
	name, arn string
	req       map[string]any
	created   time.Time
}

type endpointConfig struct {
	name, arn string
	req       map[string]any
	created   time.Time
}

type endpoint struct {
	name, arn     string
	config        string // current config
	pending       string // config being rolled out by UpdateEndpoint
	status        string
	failure       string
	steps         int // DescribeEndpoint calls left in the transient status
	created, mod  time.Time
	invocations   int
	lastInvokeCT  string
	lastInvokeAcc string
	inferenceIDs  []string // InferenceId of each call that gave one, as data capture records them
}

// endpointState is the hosting state of one Server; the server's lock guards it (JSON
// handlers run under it; the runtime handler and the accessors take it).
type endpointState struct {
	s         *Server
	opt       EndpointOptions
	models    map[string]*hostedModel
	configs   map[string]*endpointConfig
	endpoints map[string]*endpoint
}

// WithEndpoints adds the hosting operations and the runtime's InvokeEndpoint route.
func WithEndpoints(opt EndpointOptions) Option {
	if opt.Steps <= 0 {
		opt.Steps = 2
	}
	return func(s *Server) {
		st := &endpointState{s: s, opt: opt, models: map[string]*hostedModel{},
			configs: map[string]*endpointConfig{}, endpoints: map[string]*endpoint{}}
		WithOps(func(*Server) map[string]HandlerFunc { return st.ops() })(s)
		s.HandleHTTP("POST /endpoints/{name}/invocations", http.HandlerFunc(st.invoke))
		s.endpointsHook = st
	}
}

func (st *endpointState) ops() map[string]HandlerFunc {
	return map[string]HandlerFunc{
		"SageMaker.CreateModel":            st.createModel,
		"SageMaker.DescribeModel":          st.describeModel,
		"SageMaker.DeleteModel":            st.deleteModel,
		"SageMaker.CreateEndpointConfig":   st.createConfig,
		"SageMaker.DescribeEndpointConfig": st.describeConfig,
		"SageMaker.DeleteEndpointConfig":   st.deleteConfig,
		"SageMaker.CreateEndpoint":         st.createEndpoint,
		"SageMaker.UpdateEndpoint":         st.updateEndpoint,
		"SageMaker.DescribeEndpoint":       st.describeEndpoint,
		"SageMaker.DeleteEndpoint":         st.deleteEndpoint,
	}
}

func decode(body []byte) (map[string]any, error) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &Error{Type: "SerializationException", Message: err.Error()}
	}
	return req, nil
}

func validationMsg(msg string) *Error { return &Error{Type: "ValidationException", Message: msg} }

func (st *endpointState) createModel(_ context.Context, body []byte) (any, error) {
	req, err := decode(body)
	if err != nil {
		return nil, err
	}
	c := &checker{}
	if c.required(req, "ModelName", "modelName") {
		c.str(req["ModelName"], "modelName", 1, 63, reResourceName)
	}
	if c.required(req, "ExecutionRoleArn", "executionRoleArn") {
		c.str(req["ExecutionRoleArn"], "executionRoleArn", 20, 2048, reRoleARN)
	}
	pc, ok := req["PrimaryContainer"]
	if !ok {
		st.modelPackageContainers(c, req)
	} else {
		m := obj(pc)
		if c.required(m, "Image", "primaryContainer.image") {
			c.str(m["Image"], "primaryContainer.image", 1, 255, reImage)
		}
		if v, ok := m["ModelDataUrl"]; ok {
			c.str(v, "primaryContainer.modelDataUrl", 0, 1024, reModelURL)
		}
		if env, ok := m["Environment"]; ok {
			c.environment(env, "primaryContainer.environment", 16, 1024)
		}
	}
	c.modelSecurity(req)
	c.tags(req["Tags"])
	if len(c.msgs) > 0 {
		return nil, validation(c.msgs)
	}
	name := req["ModelName"].(string)
	if m, ok := st.models[name]; ok {
		return nil, validationMsg(fmt.Sprintf("Cannot create already existing model %q.", m.arn))
	}
	m := &hostedModel{name: name, arn: st.s.arn("model", name), req: req, created: st.s.now()}
	st.models[name] = m
	return map[string]string{"ModelArn": m.arn}, nil
}

func nameOf(body []byte, key string) (string, error) {
	req, err := decode(body)
	if err != nil {
		return "", err
	}
	name, _ := req[key].(string)
	return name, nil
}

func (st *endpointState) describeModel(_ context.Context, body []byte) (any, error) {
	name, err := nameOf(body, "ModelName")
	if err != nil {
		return nil, err
	}
	m, ok := st.models[name]
	if !ok {
		return nil, validationMsg(fmt.Sprintf("Could not find model %q.", st.s.arn("model", name)))
	}
	out := map[string]any{"ModelName": m.name, "ModelArn": m.arn, "CreationTime": epoch(m.created),
		"ExecutionRoleArn": m.req["ExecutionRoleArn"]}
	for _, k := range []string{"PrimaryContainer", "Containers", "VpcConfig", "EnableNetworkIsolation"} {
		if v, ok := m.req[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

func (st *endpointState) deleteModel(_ context.Context, body []byte) (any, error) {
	name, err := nameOf(body, "ModelName")
	if err != nil {
		return nil, err
	}
	if _, ok := st.models[name]; !ok {
		return nil, validationMsg(fmt.Sprintf("Could not find model %q.", st.s.arn("model", name)))
	}
	delete(st.models, name)
	return struct{}{}, nil
}

func (st *endpointState) createConfig(_ context.Context, body []byte) (any, error) {
	req, err := decode(body)
	if err != nil {
		return nil, err
	}
	c := &checker{}
	if c.required(req, "EndpointConfigName", "endpointConfigName") {
		c.str(req["EndpointConfigName"], "endpointConfigName", 1, 63, reResourceName)
	}
	variants := list(req["ProductionVariants"])
	if len(variants) < 1 || len(variants) > 10 {
		c.fail(len(variants), "productionVariants", "have length between 1 and 10")
	}
	for i, v := range variants {
		m := obj(v)
		p := fmt.Sprintf("productionVariants.%d.member", i+1)
		if c.required(m, "VariantName", p+".variantName") {
			c.str(m["VariantName"], p+".variantName", 1, 63, reResourceName)
		}
		if c.required(m, "ModelName", p+".modelName") {
			c.str(m["ModelName"], p+".modelName", 1, 63, reResourceName)
		}
		_, instance := m["InstanceType"]
		sl, serverless := m["ServerlessConfig"]
		switch {
		case instance && serverless:
			c.fail(nil, p+".instanceType", "not be set together with serverlessConfig")
		case instance:
			c.enum(m["InstanceType"], p+".instanceType", instanceTypes...)
			if c.required(m, "InitialInstanceCount", p+".initialInstanceCount") {
				c.integer(m["InitialInstanceCount"], p+".initialInstanceCount", 1)
			}
		case serverless:
			s := obj(sl)
			if c.required(s, "MemorySizeInMB", p+".serverlessConfig.memorySizeInMB") {
				if mb, ok := c.integer(s["MemorySizeInMB"], p+".serverlessConfig.memorySizeInMB", 1024); ok && !slices.Contains(serverlessMemory, mb) {
					c.fail(mb, p+".serverlessConfig.memorySizeInMB", "be one of 1024, 2048, 3072, 4096, 5120, 6144")
				}
			}
			if c.required(s, "MaxConcurrency", p+".serverlessConfig.maxConcurrency") {
				c.intRange(s["MaxConcurrency"], p+".serverlessConfig.maxConcurrency", 1, 200)
			}
		default:
			c.fail(nil, p+".instanceType", "be set, or serverlessConfig")
		}
	}
	c.endpointConfigExtras(req)
	c.tags(req["Tags"])
	if len(c.msgs) > 0 {
		return nil, validation(c.msgs)
	}
	for _, v := range variants {
		name := obj(v)["ModelName"].(string)
		if _, ok := st.models[name]; !ok {
			return nil, validationMsg(fmt.Sprintf("Could not find model %q.", st.s.arn("model", name)))
		}
	}
	name := req["EndpointConfigName"].(string)
	if ec, ok := st.configs[name]; ok {
		return nil, validationMsg(fmt.Sprintf("Cannot create already existing endpoint configuration %q.", ec.arn))
	}
	ec := &endpointConfig{name: name, arn: st.s.arn("endpoint-config", name), req: req, created: st.s.now()}
	st.configs[name] = ec
	return map[string]string{"EndpointConfigArn": ec.arn}, nil
}

func (st *endpointState) describeConfig(_ context.Context, body []byte) (any, error) {
	name, err := nameOf(body, "EndpointConfigName")
	if err != nil {
		return nil, err
	}
	ec, ok := st.configs[name]
	if !ok {
		return nil, validationMsg(fmt.Sprintf("Could not find endpoint configuration %q.", st.s.arn("endpoint-config", name)))
	}
	return map[string]any{"EndpointConfigName": ec.name, "EndpointConfigArn": ec.arn,
		"ProductionVariants": ec.req["ProductionVariants"], "CreationTime": epoch(ec.created)}, nil
}

func (st *endpointState) deleteConfig(_ context.Context, body []byte) (any, error) {
	name, err := nameOf(body, "EndpointConfigName")
	if err != nil {
		return nil, err
	}
	if _, ok := st.configs[name]; !ok {
		return nil, validationMsg(fmt.Sprintf("Could not find endpoint configuration %q.", st.s.arn("endpoint-config", name)))
	}
	delete(st.configs, name)
	return struct{}{}, nil
}

// endpointRequest validates the members CreateEndpoint and UpdateEndpoint share.
func (st *endpointState) endpointRequest(body []byte) (name, config string, err error) {
	req, err := decode(body)
	if err != nil {
		return "", "", err
	}
	c := &checker{}
	if c.required(req, "EndpointName", "endpointName") {
		c.str(req["EndpointName"], "endpointName", 1, 63, reResourceName)
	}
	if c.required(req, "EndpointConfigName", "endpointConfigName") {
		c.str(req["EndpointConfigName"], "endpointConfigName", 1, 63, reResourceName)
	}
	c.tags(req["Tags"])
	if len(c.msgs) > 0 {
		return "", "", validation(c.msgs)
	}
	name, config = req["EndpointName"].(string), req["EndpointConfigName"].(string)
	if _, ok := st.configs[config]; !ok {
		return "", "", validationMsg(fmt.Sprintf("Could not find endpoint configuration %q.", st.s.arn("endpoint-config", config)))
	}
	return name, config, nil
}

func (st *endpointState) createEndpoint(_ context.Context, body []byte) (any, error) {
	name, config, err := st.endpointRequest(body)
	if err != nil {
		return nil, err
	}
	if ep, ok := st.endpoints[name]; ok {
		return nil, validationMsg(fmt.Sprintf("Cannot create already existing endpoint %q.", ep.arn))
	}
	now := st.s.now()
	ep := &endpoint{name: name, arn: st.s.arn("endpoint", name), config: config, status: "Creating",
		steps: st.opt.Steps, created: now, mod: now}
	st.endpoints[name] = ep
	return map[string]string{"EndpointArn": ep.arn}, nil
}

func (st *endpointState) updateEndpoint(_ context.Context, body []byte) (any, error) {
	name, config, err := st.endpointRequest(body)
	if err != nil {
		return nil, err
	}
	ep, ok := st.endpoints[name]
	if !ok {
		return nil, validationMsg(fmt.Sprintf("Could not find endpoint %q.", st.s.arn("endpoint", name)))
	}
	if ep.status != "InService" && ep.status != "Failed" {
		return nil, validationMsg(fmt.Sprintf("Cannot update in-progress endpoint %q.", ep.arn))
	}
	ep.pending, ep.status, ep.steps, ep.failure, ep.mod = config, "Updating", st.opt.Steps, "", st.s.now()
	return map[string]string{"EndpointArn": ep.arn}, nil
}

// advance moves an endpoint one step through its transient status.
func (st *endpointState) advance(ep *endpoint) {
	switch ep.status {
	case "Creating", "Updating", "Deleting":
	default:
		return
	}
	if ep.steps--; ep.steps > 0 {
		return
	}
	ep.mod = st.s.now()
	switch {
	case ep.status == "Deleting":
		delete(st.endpoints, ep.name)
	case st.opt.FailureReason != "":
		ep.status, ep.failure, ep.pending = "Failed", st.opt.FailureReason, ""
	default:
		if ep.pending != "" {
			ep.config, ep.pending = ep.pending, ""
		}
		ep.status = "InService"
	}
}

func (st *endpointState) describeEndpoint(_ context.Context, body []byte) (any, error) {
	name, err := nameOf(body, "EndpointName")
	if err != nil {
		return nil, err
	}
	ep, ok := st.endpoints[name]
	if ok {
		st.advance(ep)
		_, ok = st.endpoints[name]
	}
	if !ok {
		return nil, validationMsg(fmt.Sprintf("Could not find endpoint %q.", st.s.arn("endpoint", name)))
	}
	out := map[string]any{
		"EndpointName": ep.name, "EndpointArn": ep.arn, "EndpointConfigName": ep.config,
		"EndpointStatus": ep.status, "CreationTime": epoch(ep.created), "LastModifiedTime": epoch(ep.mod),
	}
	if ep.failure != "" {
		out["FailureReason"] = ep.failure
	}
	if ep.status == "InService" {
		var vs []map[string]any
		for _, v := range list(st.configs[ep.config].reqOrNil()["ProductionVariants"]) {
			m := obj(v)
			summary := map[string]any{"VariantName": m["VariantName"], "CurrentWeight": 1}
			if n, ok := m["InitialInstanceCount"]; ok {
				summary["CurrentInstanceCount"] = n
			}
			vs = append(vs, summary)
		}
		out["ProductionVariants"] = vs
	}
	return out, nil
}

// reqOrNil tolerates a config deleted while an endpoint still uses it, as the service
// allows.
func (ec *endpointConfig) reqOrNil() map[string]any {
	if ec == nil {
		return nil
	}
	return ec.req
}

func (st *endpointState) deleteEndpoint(_ context.Context, body []byte) (any, error) {
	name, err := nameOf(body, "EndpointName")
	if err != nil {
		return nil, err
	}
	ep, ok := st.endpoints[name]
	if !ok {
		return nil, validationMsg(fmt.Sprintf("Could not find endpoint %q.", st.s.arn("endpoint", name)))
	}
	if ep.status == "Deleting" {
		return nil, validationMsg(fmt.Sprintf("Cannot delete endpoint %q while it is being deleted.", ep.arn))
	}
	ep.status, ep.steps, ep.mod = "Deleting", st.opt.Steps, st.s.now()
	return struct{}{}, nil
}

// invoke is the runtime's InvokeEndpoint: it hands the body to the container handler
// and wraps the container's errors as the service does.
func (st *endpointState) invoke(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := readAll(r)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "ValidationError", err.Error(), nil)
		return
	}
	st.s.mu.Lock()
	ep, ok := st.endpoints[name]
	if ok {
		ep.invocations++
		ep.lastInvokeCT, ep.lastInvokeAcc = r.Header.Get("Content-Type"), r.Header.Get("Accept")
		if id := r.Header.Get(inferenceIDHeader); id != "" {
			ep.inferenceIDs = append(ep.inferenceIDs, id)
		}
	}
	status := ""
	if ok {
		status = ep.status
	}
	st.s.mu.Unlock()
	switch {
	case !ok:
		runtimeError(w, http.StatusBadRequest, "ValidationError",
			fmt.Sprintf("Endpoint %s of account %s not found.", name, st.s.account), nil)
		return
	case status != "InService" && status != "Updating":
		runtimeError(w, http.StatusBadRequest, "ValidationError",
			fmt.Sprintf("Endpoint %s is not in service (status %s).", name, status), nil)
		return
	case len(body) > 6<<20:
		runtimeError(w, http.StatusRequestEntityTooLarge, "ValidationError", "Request body is larger than 6 MB.", nil)
		return
	}
	if msg := checkInvokeHeaders(r); msg != "" {
		runtimeError(w, http.StatusBadRequest, "ValidationError", msg, nil)
		return
	}
	if st.opt.Container == nil {
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.Header().Set("X-Amzn-Invoked-Production-Variant", "AllTraffic")
		w.Write(body)
		return
	}
	creq := httptest.NewRequest(http.MethodPost, "/invocations", bytes.NewReader(body))
	for _, h := range []string{"Content-Type", "Accept", customAttributesHeader, inferenceIDHeader} {
		if v := r.Header.Get(h); v != "" {
			creq.Header.Set(h, v)
		}
	}
	rec := httptest.NewRecorder()
	st.opt.Container.ServeHTTP(rec, creq)
	res := rec.Result()
	if res.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(rec.Body.String())
		runtimeError(w, http.StatusFailedDependency, "ModelError",
			fmt.Sprintf("Received client error (%d) from primary with message \"%s\". See https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEventViewer:group=/aws/sagemaker/Endpoints/%s in account %s for more information.",
				res.StatusCode, msg, name, st.s.account),
			map[string]any{"OriginalStatusCode": res.StatusCode, "OriginalMessage": msg,
				"LogStreamArn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/sagemaker/Endpoints/%s", st.s.region, st.s.account, name)})
		return
	}
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.Header().Set("X-Amzn-Invoked-Production-Variant", "AllTraffic")
	if a := res.Header.Get(customAttributesHeader); a != "" {
		w.Header().Set(customAttributesHeader, a)
	}
	w.Write(rec.Body.Bytes())
}

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	return b.Bytes(), err
}

// runtimeError writes a REST JSON error as the runtime service does.
func runtimeError(w http.ResponseWriter, status int, code, msg string, extra map[string]any) {
	body := map[string]any{"message": msg}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// hosting returns the endpoint state under the server's lock; the caller unlocks.
func (s *Server) hosting() *endpointState {
	s.mu.Lock()
	if s.endpointsHook == nil {
		s.mu.Unlock()
		panic("sagemakertest: server created without WithEndpoints")
	}
	return s.endpointsHook
}

// EndpointStatus reports an endpoint's status ("" when it does not exist) without
// advancing it.
func (s *Server) EndpointStatus(name string) string {
	st := s.hosting()
	defer s.mu.Unlock()
	if ep, ok := st.endpoints[name]; ok {
		return ep.status
	}
	return ""
}

// EndpointConfigOf reports the endpoint configuration an endpoint serves ("" when none).
func (s *Server) EndpointConfigOf(name string) string {
	st := s.hosting()
	defer s.mu.Unlock()
	if ep, ok := st.endpoints[name]; ok {
		return ep.config
	}
	return ""
}

// EndpointInvocations counts InvokeEndpoint calls that reached an existing endpoint,
// with the last call's Content-Type and Accept.
func (s *Server) EndpointInvocations(name string) (n int, contentType, accept string) {
	st := s.hosting()
	defer s.mu.Unlock()
	if ep, ok := st.endpoints[name]; ok {
		return ep.invocations, ep.lastInvokeCT, ep.lastInvokeAcc
	}
	return 0, "", ""
}

// HostedModels and EndpointConfigs list the names that exist, sorted.
func (s *Server) HostedModels() []string {
	st := s.hosting()
	defer s.mu.Unlock()
	return sortedKeys(st.models)
}

func (s *Server) EndpointConfigs() []string {
	st := s.hosting()
	defer s.mu.Unlock()
	return sortedKeys(st.configs)
}

// ModelRequest returns the CreateModel request a model was made with (nil if none).
func (s *Server) ModelRequest(name string) map[string]any {
	st := s.hosting()
	defer s.mu.Unlock()
	if m, ok := st.models[name]; ok {
		return m.req
	}
	return nil
}
