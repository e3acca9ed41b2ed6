package cli

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// requestKind is a SageMaker request that takes network and key settings; its
// name is the SDK config file's key under SageMaker.
type requestKind string

const (
	reqTraining       requestKind = "TrainingJob"
	reqModel          requestKind = "Model"
	reqEndpointConfig requestKind = "EndpointConfig"
	reqTransform      requestKind = "TransformJob"
	reqProcessing     requestKind = "ProcessingJob"
)

// Settings, named by their flags; role and tags have their own flags in each command.
const (
	setSubnets   = "subnets"
	setGroups    = "security-groups"
	setOutputKMS = "output-kms-key"
	setVolumeKMS = "volume-kms-key"
	setIsolation = "network-isolation"
	setICTE      = "encrypt-inter-container-traffic"
	setRole      = "role"
	setTags      = "tags"
)

// settingPaths says where each setting sits in a request of each kind (and so in
// the SDK config file under SageMaker.<kind>); a kind without a setting's path has
// no such member.
var settingPaths = map[requestKind]map[string]string{
	reqTraining: {setSubnets: "VpcConfig.Subnets", setGroups: "VpcConfig.SecurityGroupIds",
		setOutputKMS: "OutputDataConfig.KmsKeyId", setVolumeKMS: "ResourceConfig.VolumeKmsKeyId",
		setIsolation: "EnableNetworkIsolation", setICTE: "EnableInterContainerTrafficEncryption",
		setRole: "RoleArn", setTags: "Tags"},
	reqModel: {setSubnets: "VpcConfig.Subnets", setGroups: "VpcConfig.SecurityGroupIds",
		setIsolation: "EnableNetworkIsolation", setRole: "ExecutionRoleArn", setTags: "Tags"},
	// an endpoint's output is its captured data; its volume key is the config's KmsKeyId
	reqEndpointConfig: {setOutputKMS: "DataCaptureConfig.KmsKeyId", setVolumeKMS: "KmsKeyId", setTags: "Tags"},
	reqTransform:      {setOutputKMS: "TransformOutput.KmsKeyId", setVolumeKMS: "TransformResources.VolumeKmsKeyId", setTags: "Tags"},
	reqProcessing: {setSubnets: "NetworkConfig.VpcConfig.Subnets", setGroups: "NetworkConfig.VpcConfig.SecurityGroupIds",
		setOutputKMS: "ProcessingOutputConfig.KmsKeyId", setVolumeKMS: "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
		setIsolation: "NetworkConfig.EnableNetworkIsolation", setICTE: "NetworkConfig.EnableInterContainerTrafficEncryption",
		setRole: "RoleArn", setTags: "Tags"},
}

var settingDocs = map[string]string{
	setSubnets:   "VPC subnet `IDS` to run in, comma-separated (with --security-groups)",
	setGroups:    "VPC security group `IDS`, comma-separated (with --subnets)",
	setOutputKMS: "KMS `KEY` (id, ARN or alias) that encrypts what is written to S3",
	setVolumeKMS: "KMS `KEY` that encrypts the instances' storage volumes",
	setIsolation: "run the container without network access",
	setICTE:      "encrypt traffic between the job's instances",
}

// VpcConfig limits (sagemaker-api-constraints.md, VpcConfig).
var reVpcID = regexp.MustCompile(`^[-0-9a-zA-Z]+$`)

const (
	maxSubnets, maxSecurityGroups, maxVpcIDLen, maxKMSKeyLen = 16, 5, 32, 2048
)

// securityFlags are the network and key flags of one command; register picks
// those that the command's requests take.
type securityFlags struct {
	fs                   *flag.FlagSet
	subnets, groups      string
	outputKMS, volumeKMS string
	isolation, icte      bool
}

func (f *securityFlags) register(fs *flag.FlagSet, kinds ...requestKind) {
	f.fs = fs
	has := func(s string) bool {
		return slices.ContainsFunc(kinds, func(k requestKind) bool { _, ok := settingPaths[k][s]; return ok })
	}
	for _, s := range []struct {
		name string
		str  *string
		b    *bool
	}{{setSubnets, &f.subnets, nil}, {setGroups, &f.groups, nil}, {setOutputKMS, &f.outputKMS, nil},
		{setVolumeKMS, &f.volumeKMS, nil}, {setIsolation, nil, &f.isolation}, {setICTE, nil, &f.icte}} {
		if !has(s.name) {
			continue
		}
		if s.b != nil {
			fs.BoolVar(s.b, s.name, false, settingDocs[s.name]+" (default from the SageMaker config file)")
		} else {
			fs.StringVar(s.str, s.name, "", settingDocs[s.name]+" (default from the SageMaker config file)")
		}
	}
}

func (f *securityFlags) set(name string) bool { return flagSet(f.fs, name) }

// security is what one request gets, each value with where it came from.
type security struct {
	kind                 requestKind
	subnets, groups      []string
	outputKMS, volumeKMS string
	isolation, icte      bool
	role                 string      // from the config file only; the command's --role wins
	tags                 [][2]string // from the config file
	origins              []string
	from                 map[string]string // setting → "--flag" or "FILE: PATH", for errors
}

// resolve takes each setting of kind from its flag, else from the config file.
func (f *securityFlags) resolve(cfg *sdkConfig, kind requestKind) (*security, error) {
	s := &security{kind: kind, from: map[string]string{}}
	paths := settingPaths[kind]
	cfgPath := func(set string) string { return "SageMaker." + string(kind) + "." + paths[set] }
	note := func(member, value, from string) {
		s.origins = append(s.origins, fmt.Sprintf("%s.%s = %s  (%s)", kind, member, value, from))
		for set, p := range paths {
			if p == member {
				s.from[set] = from
			}
		}
	}
	list := func(set, raw string) ([]string, error) {
		if _, ok := paths[set]; !ok {
			return nil, nil
		}
		if f.set(set) {
			var out []string
			for _, p := range strings.Split(raw, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			if len(out) > 0 {
				note(paths[set], strings.Join(out, ","), "--"+set)
			}
			return out, nil
		}
		out, file, err := cfg.strings(cfgPath(set))
		if len(out) > 0 {
			note(paths[set], strings.Join(out, ","), file+": "+cfgPath(set))
		}
		return out, err
	}
	str := func(set, raw string) (string, error) {
		if _, ok := paths[set]; !ok {
			return "", nil
		}
		if f.set(set) {
			if raw != "" {
				note(paths[set], raw, "--"+set)
			}
			return raw, nil
		}
		v, file, err := cfg.str(cfgPath(set))
		if v != "" {
			note(paths[set], v, file+": "+cfgPath(set))
		}
		return v, err
	}
	boolean := func(set string, raw bool) (bool, error) {
		if _, ok := paths[set]; !ok {
			return false, nil
		}
		if f.set(set) {
			note(paths[set], fmt.Sprint(raw), "--"+set)
			return raw, nil
		}
		v, file, ok, err := cfg.boolean(cfgPath(set))
		if ok {
			note(paths[set], fmt.Sprint(v), file+": "+cfgPath(set))
		}
		return v, err
	}
	var err error
	if s.subnets, err = list(setSubnets, f.subnets); err != nil {
		return nil, err
	}
	if s.groups, err = list(setGroups, f.groups); err != nil {
		return nil, err
	}
	if s.outputKMS, err = str(setOutputKMS, f.outputKMS); err != nil {
		return nil, err
	}
	if s.volumeKMS, err = str(setVolumeKMS, f.volumeKMS); err != nil {
		return nil, err
	}
	if s.isolation, err = boolean(setIsolation, f.isolation); err != nil {
		return nil, err
	}
	if s.icte, err = boolean(setICTE, f.icte); err != nil {
		return nil, err
	}
	if _, ok := paths[setRole]; ok {
		var file string
		if s.role, file, err = cfg.str(cfgPath(setRole)); err != nil {
			return nil, err
		}
		s.from[setRole] = file + ": " + cfgPath(setRole)
	}
	if _, ok := paths[setTags]; ok {
		var file string
		if s.tags, file, err = cfg.tags(cfgPath(setTags)); err != nil {
			return nil, err
		}
		s.from[setTags] = file + ": " + cfgPath(setTags)
		for _, kv := range s.tags {
			if err := checkTag(file+": "+cfgPath(setTags), kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	return s, s.check()
}

// check applies the API's limits; errors name the flag or the config file and key
// the value came from.
func (s *security) check() error {
	switch {
	case len(s.subnets) > 0 && len(s.groups) == 0:
		return usagef("%s needs --security-groups: a VPC configuration takes both", s.from[setSubnets])
	case len(s.groups) > 0 && len(s.subnets) == 0:
		return usagef("%s needs --subnets: a VPC configuration takes both", s.from[setGroups])
	case len(s.subnets) > maxSubnets:
		return usagef("%s: %d subnets, at most %d allowed", s.from[setSubnets], len(s.subnets), maxSubnets)
	case len(s.groups) > maxSecurityGroups:
		return usagef("%s: %d security groups, at most %d allowed", s.from[setGroups], len(s.groups), maxSecurityGroups)
	}
	for set, ids := range map[string][]string{setSubnets: s.subnets, setGroups: s.groups} {
		for _, id := range ids {
			if len(id) > maxVpcIDLen || !reVpcID.MatchString(id) {
				return usagef("%s %q: expected letters, digits and '-', at most %d characters (like subnet-0abc or sg-0abc)", s.from[set], id, maxVpcIDLen)
			}
		}
	}
	for set, k := range map[string]string{setOutputKMS: s.outputKMS, setVolumeKMS: s.volumeKMS} {
		if len(k) > maxKMSKeyLen {
			return usagef("%s: longer than %d characters", s.from[set], maxKMSKeyLen)
		}
	}
	return nil
}

// withRole picks the role: the command's flag, else the config file, else fallback.
func (s *security) withRole(flagValue, fallback string) string {
	switch {
	case flagValue != "":
		return flagValue
	case s.role != "":
		s.origins = append(s.origins, fmt.Sprintf("%s.%s = %s  (%s)", s.kind, settingPaths[s.kind][setRole], s.role, s.from[setRole]))
		return s.role
	}
	return fallback
}

// withTags appends the config file's tags whose keys the command did not give.
func (s *security) withTags(tags []types.Tag) []types.Tag {
	for _, kv := range s.tags {
		if slices.ContainsFunc(tags, func(t types.Tag) bool { return aws.ToString(t.Key) == kv[0] }) {
			continue
		}
		tags = append(tags, types.Tag{Key: aws.String(kv[0]), Value: aws.String(kv[1])})
		s.origins = append(s.origins, fmt.Sprintf("%s.Tags %s=%s  (%s)", s.kind, kv[0], kv[1], s.from[setTags]))
	}
	return tags
}

func (s *security) vpc() *types.VpcConfig {
	if s == nil || len(s.subnets) == 0 {
		return nil
	}
	return &types.VpcConfig{Subnets: s.subnets, SecurityGroupIds: s.groups}
}

func optBool(b bool) *bool {
	if !b {
		return nil
	}
	return aws.Bool(true)
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func (s *security) applyTraining(in *sagemaker.CreateTrainingJobInput) {
	if s == nil {
		return
	}
	in.VpcConfig = s.vpc()
	in.EnableNetworkIsolation = optBool(s.isolation)
	in.EnableInterContainerTrafficEncryption = optBool(s.icte)
	if in.OutputDataConfig != nil {
		in.OutputDataConfig.KmsKeyId = optString(s.outputKMS)
	}
	if in.ResourceConfig != nil {
		in.ResourceConfig.VolumeKmsKeyId = optString(s.volumeKMS)
	}
}

func (s *security) applyModel(in *sagemaker.CreateModelInput) {
	if s == nil {
		return
	}
	in.VpcConfig = s.vpc()
	in.EnableNetworkIsolation = optBool(s.isolation)
}

func (s *security) applyEndpointConfig(in *sagemaker.CreateEndpointConfigInput) {
	if s == nil {
		return
	}
	in.KmsKeyId = optString(s.volumeKMS)
	if in.DataCaptureConfig != nil {
		in.DataCaptureConfig.KmsKeyId = optString(s.outputKMS)
	}
}

func (s *security) applyTransform(in *sagemaker.CreateTransformJobInput) {
	if s == nil {
		return
	}
	if in.TransformOutput != nil {
		in.TransformOutput.KmsKeyId = optString(s.outputKMS)
	}
	if in.TransformResources != nil {
		in.TransformResources.VolumeKmsKeyId = optString(s.volumeKMS)
	}
}

// applyProcessing sets a CreateProcessingJob request's network and keys; the
// request's ProcessingOutputConfig and ProcessingResources.ClusterConfig must be
// set before.
func (s *security) applyProcessing(in *sagemaker.CreateProcessingJobInput) {
	if s == nil {
		return
	}
	if v := s.vpc(); v != nil || s.isolation || s.icte {
		in.NetworkConfig = &types.NetworkConfig{VpcConfig: v,
			EnableNetworkIsolation: optBool(s.isolation), EnableInterContainerTrafficEncryption: optBool(s.icte)}
	}
	if in.ProcessingOutputConfig != nil {
		in.ProcessingOutputConfig.KmsKeyId = optString(s.outputKMS)
	}
	if in.ProcessingResources != nil && in.ProcessingResources.ClusterConfig != nil {
		in.ProcessingResources.ClusterConfig.VolumeKmsKeyId = optString(s.volumeKMS)
	}
}

// printOrigins tells, under --dry-run, where each value not from a plain flag
// default came from (stderr, so stdout stays the requests).
func printOrigins(w io.Writer, lines ...[]string) {
	for _, l := range lines {
		for _, o := range l {
			fmt.Fprintf(w, "from: %s\n", o)
		}
	}
}
