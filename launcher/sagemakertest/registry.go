package sagemakertest

// Model registry: CreateModelPackageGroup, DescribeModelPackageGroup,
// CreateModelPackage (versioned, in a group), DescribeModelPackage,
// UpdateModelPackage (approval) and ListModelPackages, plus CreateModel from a
// package (Containers: [{ModelPackageName}]). Add them with WithRegistry() next to
// WithEndpoints. Versions count from 1 per group; ARNs are
// arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION (lower-cased).

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	// VersionedArnOrName without the model's look-behind (no trailing '-'), checked apart.
	rePackageName = regexp.MustCompile(`^(arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z\-]*/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(/[0-9]{1,5})?$`)
	rePackageARN  = regexp.MustCompile(`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:model-package/\S+$`)
	reMetaKey     = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
)

var approvalStatuses = []string{"Approved", "Rejected", "PendingManualApproval"}

type packageGroup struct {
	name, arn string
	created   time.Time
	versions  []*modelPackage
}

type modelPackage struct {
	group               *packageGroup
	version             int
	arn                 string
	req                 map[string]any
	approval            string
	approvalDescription string
	created, modified   time.Time
}

type registryState struct {
	s      *Server
	groups map[string]*packageGroup
}

// WithRegistry adds the model registry operations.
func WithRegistry() Option {
	return func(s *Server) {
		st := &registryState{s: s, groups: map[string]*packageGroup{}}
		s.registryHook = st
		WithOps(func(*Server) map[string]HandlerFunc { return st.ops() })(s)
	}
}

func (st *registryState) ops() map[string]HandlerFunc {
	return map[string]HandlerFunc{
		"SageMaker.CreateModelPackageGroup":   st.createGroup,
		"SageMaker.DescribeModelPackageGroup": st.describeGroup,
		"SageMaker.CreateModelPackage":        st.createPackage,
		"SageMaker.DescribeModelPackage":      st.describePackage,
		"SageMaker.UpdateModelPackage":        st.updatePackage,
		"SageMaker.ListModelPackages":         st.listPackages,
	}
}

func (st *registryState) createGroup(_ context.Context, body []byte) (any, error) {
	req, err := decode(body)
	if err != nil {
		return nil, err
	}
	c := &checker{}
	if c.required(req, "ModelPackageGroupName", "modelPackageGroupName") {
		c.str(req["ModelPackageGroupName"], "modelPackageGroupName", 1, 63, reResourceName)
	}
	if v, ok := req["ModelPackageGroupDescription"]; ok {
		c.str(v, "modelPackageGroupDescription", 0, 1024, nil)
	}
	c.tags(req["Tags"])
	if len(c.msgs) > 0 {
		return nil, validation(c.msgs)
	}
	name := req["ModelPackageGroupName"].(string)
	if g, ok := st.groups[name]; ok {
		return nil, validationMsg(fmt.Sprintf("Model Package Group already exists: %s", g.arn))
	}
	g := &packageGroup{name: name, arn: st.s.arn("model-package-group", name), created: st.s.now()}
	st.groups[name] = g
	return map[string]string{"ModelPackageGroupArn": g.arn}, nil
}

func (st *registryState) group(name string) (*packageGroup, error) {
	g, ok := st.groups[name]
	if !ok {
		return nil, validationMsg(fmt.Sprintf("ModelPackageGroup %s does not exist.", name))
	}
	return g, nil
}

func (st *registryState) describeGroup(_ context.Context, body []byte) (any, error) {
	name, err := nameOf(body, "ModelPackageGroupName")
	if err != nil {
		return nil, err
	}
	g, err := st.group(name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ModelPackageGroupName": g.name, "ModelPackageGroupArn": g.arn,
		"CreationTime": epoch(g.created), "ModelPackageGroupStatus": "Completed", "CreatedBy": map[string]any{}}, nil
}

func (st *registryState) createPackage(_ context.Context, body []byte) (any, error) {
	req, err := decode(body)
	if err != nil {
		return nil, err
	}
	c := &checker{}
	groupName, hasGroup := req["ModelPackageGroupName"]
	if !hasGroup {
		c.fail(nil, "modelPackageGroupName", "not be null (unversioned packages are not supported here)")
	} else {
		c.str(groupName, "modelPackageGroupName", 1, 170, rePackageName)
	}
	if v, ok := req["ModelPackageDescription"]; ok {
		c.str(v, "modelPackageDescription", 0, 1024, nil)
	}
	if v, ok := req["ModelApprovalStatus"]; ok {
		c.enum(v, "modelApprovalStatus", approvalStatuses...)
	}
	if c.required(req, "InferenceSpecification", "inferenceSpecification") {
		c.inferenceSpecification(obj(req["InferenceSpecification"]))
	}
	if v, ok := req["CustomerMetadataProperties"]; ok {
		m := obj(v)
		if len(m) < 1 || len(m) > 50 {
			c.fail(len(m), "customerMetadataProperties", "have length between 1 and 50")
		}
		for _, k := range sortedKeys(m) {
			c.str(k, "customerMetadataProperties."+k+".key", 1, 128, reMetaKey)
			c.str(m[k], "customerMetadataProperties."+k+".value", 1, 256, reMetaKey)
		}
	}
	if v, ok := req["MetadataProperties"]; ok {
		m := obj(v)
		for _, k := range []string{"CommitId", "Repository", "GeneratedBy", "ProjectId"} {
			if s, ok := m[k]; ok {
				c.str(s, "metadataProperties."+lowerFirst(k), 0, 1024, nil)
			}
		}
	}
	c.tags(req["Tags"])
	if len(c.msgs) > 0 {
		return nil, validation(c.msgs)
	}
	g, err := st.group(groupName.(string))
	if err != nil {
		return nil, err
	}
	now := st.s.now()
	p := &modelPackage{group: g, version: len(g.versions) + 1, req: req, approval: "PendingManualApproval", created: now, modified: now}
	if v, ok := req["ModelApprovalStatus"].(string); ok {
		p.approval = v
	}
	p.arn = st.s.arn("model-package", g.name+"/"+strconv.Itoa(p.version))
	g.versions = append(g.versions, p)
	return map[string]string{"ModelPackageArn": p.arn}, nil
}

func (c *checker) inferenceSpecification(spec map[string]any) {
	p := "inferenceSpecification"
	cs := list(spec["Containers"])
	if c.required(spec, "Containers", p+".containers") && (len(cs) < 1 || len(cs) > 15) {
		c.fail(len(cs), p+".containers", "have length between 1 and 15")
	}
	for i, ct := range cs {
		m := obj(ct)
		cp := fmt.Sprintf("%s.containers.%d.member", p, i+1)
		if c.required(m, "Image", cp+".image") {
			c.str(m["Image"], cp+".image", 1, 255, reImage)
		}
		if v, ok := m["ModelDataUrl"]; ok {
			c.str(v, cp+".modelDataUrl", 0, 1024, reModelURL)
		}
		if env, ok := m["Environment"]; ok {
			c.environment(env, cp+".environment", 16, 1024)
		}
	}
	for _, k := range []string{"SupportedContentTypes", "SupportedResponseMIMETypes"} {
		for i, v := range list(spec[k]) {
			c.str(v, fmt.Sprintf("%s.%s.%d.member", p, lowerFirst(k), i+1), 0, 256, nil)
		}
	}
	for i, v := range list(spec["SupportedRealtimeInferenceInstanceTypes"]) {
		c.enum(v, fmt.Sprintf("%s.supportedRealtimeInferenceInstanceTypes.%d.member", p, i+1), instanceTypes...)
	}
	for i, v := range list(spec["SupportedTransformInstanceTypes"]) {
		c.enum(v, fmt.Sprintf("%s.supportedTransformInstanceTypes.%d.member", p, i+1), transformInstanceTypes...)
	}
}

// find resolves a package ARN or "GROUP/VERSION".
func (st *registryState) find(name string) (*modelPackage, error) {
	for _, g := range st.groups {
		for _, p := range g.versions {
			if p.arn == name || g.name+"/"+strconv.Itoa(p.version) == name {
				return p, nil
			}
		}
	}
	return nil, validationMsg(fmt.Sprintf("ModelPackage %s does not exist.", name))
}

func (st *registryState) describePackage(_ context.Context, body []byte) (any, error) {
	name, err := nameOf(body, "ModelPackageName")
	if err != nil {
		return nil, err
	}
	p, err := st.find(name)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ModelPackageName": p.group.name, "ModelPackageGroupName": p.group.name,
		"ModelPackageVersion": p.version, "ModelPackageArn": p.arn, "ModelPackageStatus": "Completed",
		"ModelApprovalStatus": p.approval, "CreationTime": epoch(p.created), "LastModifiedTime": epoch(p.modified)}
	for _, k := range []string{"ModelPackageDescription", "InferenceSpecification", "CustomerMetadataProperties", "MetadataProperties"} {
		if v, ok := p.req[k]; ok {
			out[k] = v
		}
	}
	if p.approvalDescription != "" {
		out["ApprovalDescription"] = p.approvalDescription
	}
	return out, nil
}

func (st *registryState) updatePackage(_ context.Context, body []byte) (any, error) {
	req, err := decode(body)
	if err != nil {
		return nil, err
	}
	c := &checker{}
	if c.required(req, "ModelPackageArn", "modelPackageArn") {
		c.str(req["ModelPackageArn"], "modelPackageArn", 1, 2048, rePackageARN)
	}
	if v, ok := req["ModelApprovalStatus"]; ok {
		c.enum(v, "modelApprovalStatus", approvalStatuses...)
	}
	if v, ok := req["ApprovalDescription"]; ok {
		c.str(v, "approvalDescription", 0, 1024, nil)
	}
	if len(c.msgs) > 0 {
		return nil, validation(c.msgs)
	}
	p, err := st.find(req["ModelPackageArn"].(string))
	if err != nil {
		return nil, err
	}
	if v, ok := req["ModelApprovalStatus"].(string); ok {
		p.approval = v
	}
	if v, ok := req["ApprovalDescription"].(string); ok {
		p.approvalDescription = v
	}
	p.modified = st.s.now()
	return map[string]string{"ModelPackageArn": p.arn}, nil
}

func (st *registryState) listPackages(_ context.Context, body []byte) (any, error) {
	req, err := decode(body)
	if err != nil {
		return nil, err
	}
	c := &checker{}
	if v, ok := req["MaxResults"]; ok {
		c.intRange(v, "maxResults", 1, 100)
	}
	if v, ok := req["ModelApprovalStatus"]; ok {
		c.enum(v, "modelApprovalStatus", approvalStatuses...)
	}
	if v, ok := req["SortBy"]; ok {
		c.enum(v, "sortBy", "Name", "CreationTime")
	}
	if v, ok := req["SortOrder"]; ok {
		c.enum(v, "sortOrder", "Ascending", "Descending")
	}
	if len(c.msgs) > 0 {
		return nil, validation(c.msgs)
	}
	var all []*modelPackage
	if name, ok := req["ModelPackageGroupName"].(string); ok {
		g, err := st.group(name)
		if err != nil {
			return nil, err
		}
		all = append(all, g.versions...)
	} else {
		for _, g := range st.groups {
			all = append(all, g.versions...)
		}
	}
	status, _ := req["ModelApprovalStatus"].(string)
	var sel []*modelPackage
	for _, p := range all {
		if status == "" || p.approval == status {
			sel = append(sel, p)
		}
	}
	desc := req["SortOrder"] != "Ascending"
	sort.SliceStable(sel, func(i, j int) bool {
		a, b := sel[i], sel[j]
		if !a.created.Equal(b.created) {
			return a.created.Before(b.created) != desc
		}
		return (a.version < b.version) != desc
	})
	start := 0
	if tok, ok := req["NextToken"].(string); ok {
		start, _ = strconv.Atoi(strings.TrimPrefix(tok, "page-"))
	}
	n := 10
	if v, ok := req["MaxResults"].(float64); ok {
		n = int(v)
	}
	start = min(start, len(sel))
	end := min(start+n, len(sel))
	var sums []map[string]any
	for _, p := range sel[start:end] {
		s := map[string]any{"ModelPackageName": p.group.name, "ModelPackageGroupName": p.group.name,
			"ModelPackageVersion": p.version, "ModelPackageArn": p.arn, "CreationTime": epoch(p.created),
			"ModelPackageStatus": "Completed", "ModelApprovalStatus": p.approval}
		if d, ok := p.req["ModelPackageDescription"]; ok {
			s["ModelPackageDescription"] = d
		}
		sums = append(sums, s)
	}
	out := map[string]any{"ModelPackageSummaryList": sums}
	if end < len(sel) {
		out["NextToken"] = "page-" + strconv.Itoa(end)
	}
	return out, nil
}

// modelPackageContainers checks a CreateModel without PrimaryContainer: its
// Containers must name existing model packages (the registry's deploy path).
func (st *endpointState) modelPackageContainers(c *checker, req map[string]any) {
	cs, ok := req["Containers"]
	if !ok {
		c.fail(nil, "primaryContainer", "not be null")
		return
	}
	l := list(cs)
	if len(l) < 1 || len(l) > 15 {
		c.fail(len(l), "containers", "have length between 1 and 15")
	}
	for i, ct := range l {
		m := obj(ct)
		p := fmt.Sprintf("containers.%d.member", i+1)
		name, isPkg := m["ModelPackageName"]
		if !isPkg {
			if c.required(m, "Image", p+".image") {
				c.str(m["Image"], p+".image", 1, 255, reImage)
			}
			continue
		}
		c.str(name, p+".modelPackageName", 1, 176, rePackageName)
		if s, _ := name.(string); strings.HasSuffix(s, "-") {
			c.fail(s, p+".modelPackageName", "not end with '-'")
		}
		reg := st.s.registryHook
		if s, _ := name.(string); reg != nil && s != "" {
			if _, err := reg.find(s); err != nil {
				c.fail(s, p+".modelPackageName", "name an existing model package")
			}
		}
	}
}

// ModelPackageApproval reports a package's approval status ("" when it does not exist).
func (s *Server) ModelPackageApproval(arn string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.registryHook == nil {
		return ""
	}
	p, err := s.registryHook.find(arn)
	if err != nil {
		return ""
	}
	return p.approval
}
