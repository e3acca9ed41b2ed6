package sagemakertest

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestProcessingSecurityChecks: a CreateProcessingJob's network and keys are
// checked like a training job's.
func TestProcessingSecurityChecks(t *testing.T) {
	for _, tc := range []struct {
		req  string
		want string
	}{
		{`{"NetworkConfig":{"VpcConfig":{"Subnets":["subnet-1"],"SecurityGroupIds":["sg-1"]},"EnableNetworkIsolation":true},"ProcessingOutputConfig":{"KmsKeyId":"k"}}`, ""},
		{`{"NetworkConfig":{"VpcConfig":{"Subnets":["subnet_1"],"SecurityGroupIds":["sg-1"]}}}`, "networkConfig.vpcConfig.subnets.1.member"},
		{`{"NetworkConfig":{"VpcConfig":{"Subnets":["s"]}}}`, "networkConfig.vpcConfig.securityGroupIds"},
		{`{"NetworkConfig":{"EnableInterContainerTrafficEncryption":"yes"}}`, "networkConfig.enableInterContainerTrafficEncryption"},
		{`{"ProcessingResources":{"ClusterConfig":{"VolumeKmsKeyId":"` + strings.Repeat("k", 2049) + `"}}}`, "processingResources.clusterConfig.volumeKmsKeyId"},
	} {
		var req map[string]any
		if err := json.Unmarshal([]byte(tc.req), &req); err != nil {
			t.Fatal(err)
		}
		c := &checker{}
		c.processingSecurity(req)
		got := strings.Join(c.msgs, "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%.80s: %q, want %q", tc.req, got, tc.want)
		}
	}
}
