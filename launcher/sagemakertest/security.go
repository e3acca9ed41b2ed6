package sagemakertest

import (
	"fmt"
	"regexp"
)

// Network, keys, retries and the newer tuning and transform members
// (sagemaker-api-constraints.md: VpcConfig, KmsKeyId, RetryStrategy,
// ResourceLimits.MaxRuntimeInSeconds, TuningJobCompletionCriteria; DataProcessing,
// DataCaptureConfig from the API reference).

var reVpcID = regexp.MustCompile(`^[-0-9a-zA-Z]+$`)

func (c *checker) vpc(v any, path string) {
	m := obj(v)
	if m == nil {
		c.fail(v, path, "be a structure")
		return
	}
	for _, f := range []struct {
		key string
		max int
	}{{"SecurityGroupIds", 5}, {"Subnets", 16}} {
		p := path + "." + lowerFirst(f.key)
		if !c.required(m, f.key, p) {
			continue
		}
		ids := list(m[f.key])
		if len(ids) < 1 || len(ids) > f.max {
			c.fail(len(ids), p, fmt.Sprintf("have length between 1 and %d", f.max))
		}
		for i, id := range ids {
			c.str(id, fmt.Sprintf("%s.%d.member", p, i+1), 0, 32, reVpcID)
		}
	}
}

func (c *checker) kmsKey(m map[string]any, key, path string) {
	if v, ok := m[key]; ok {
		c.str(v, path, 0, 2048, nil)
	}
}

func (c *checker) boolean(m map[string]any, key, path string) {
	if v, ok := m[key]; ok {
		if _, ok := v.(bool); !ok {
			c.fail(v, path, "be a boolean")
		}
	}
}

// security checks the members CreateTrainingJob shares with a tuning job's
// training definition: VPC, keys, isolation, traffic encryption and retries.
func (c *checker) security(req map[string]any, prefix string) {
	if v, ok := req["VpcConfig"]; ok {
		c.vpc(v, prefix+"vpcConfig")
	}
	c.boolean(req, "EnableNetworkIsolation", prefix+"enableNetworkIsolation")
	c.boolean(req, "EnableInterContainerTrafficEncryption", prefix+"enableInterContainerTrafficEncryption")
	c.kmsKey(obj(req["OutputDataConfig"]), "KmsKeyId", prefix+"outputDataConfig.kmsKeyId")
	c.kmsKey(obj(req["ResourceConfig"]), "VolumeKmsKeyId", prefix+"resourceConfig.volumeKmsKeyId")
	if v, ok := req["RetryStrategy"]; ok {
		m := obj(v)
		p := prefix + "retryStrategy.maximumRetryAttempts"
		if c.required(m, "MaximumRetryAttempts", p) {
			c.intRange(m["MaximumRetryAttempts"], p, 1, 30)
		}
	}
}

// tuningStop checks RandomSeed, TuningJobCompletionCriteria and the runtime limit.
func (c *checker) tuningStop(cfg map[string]any, p string) {
	if v, ok := cfg["RandomSeed"]; ok {
		c.integer(v, p+".randomSeed", 0)
	}
	if v, ok := obj(cfg["ResourceLimits"])["MaxRuntimeInSeconds"]; ok {
		c.intRange(v, p+".resourceLimits.maxRuntimeInSeconds", 120, 15768000)
	}
	cc, ok := cfg["TuningJobCompletionCriteria"]
	if !ok {
		return
	}
	m := obj(cc)
	cp := p + ".tuningJobCompletionCriteria"
	if v, ok := m["TargetObjectiveMetricValue"]; ok {
		if _, ok := v.(float64); !ok {
			c.fail(v, cp+".targetObjectiveMetricValue", "be a number")
		}
	}
	if v, ok := m["BestObjectiveNotImproving"]; ok {
		bp := cp + ".bestObjectiveNotImproving.maxNumberOfTrainingJobsNotImproving"
		if n, ok := obj(v)["MaxNumberOfTrainingJobsNotImproving"]; ok {
			c.integer(n, bp, 3)
		}
	}
	if v, ok := m["ConvergenceDetected"]; ok {
		if e, ok := obj(v)["CompleteOnConvergence"]; ok {
			c.enum(e, cp+".convergenceDetected.completeOnConvergence", "Disabled", "Enabled")
		}
	}
	if len(m) == 0 {
		c.fail(nil, cp, "have at least one criterion")
	}
}

// modelSecurity checks CreateModel's VPC and isolation.
func (c *checker) modelSecurity(req map[string]any) {
	if v, ok := req["VpcConfig"]; ok {
		c.vpc(v, "vpcConfig")
	}
	c.boolean(req, "EnableNetworkIsolation", "enableNetworkIsolation")
}

// endpointConfigExtras checks CreateEndpointConfig's KmsKeyId and DataCaptureConfig.
func (c *checker) endpointConfigExtras(req map[string]any) {
	c.kmsKey(req, "KmsKeyId", "kmsKeyId")
	v, ok := req["DataCaptureConfig"]
	if !ok {
		return
	}
	m := obj(v)
	p := "dataCaptureConfig"
	if c.required(m, "InitialSamplingPercentage", p+".initialSamplingPercentage") {
		c.intRange(m["InitialSamplingPercentage"], p+".initialSamplingPercentage", 0, 100)
	}
	if c.required(m, "DestinationS3Uri", p+".destinationS3Uri") {
		c.str(m["DestinationS3Uri"], p+".destinationS3Uri", 0, 512, reS3URI)
	}
	c.kmsKey(m, "KmsKeyId", p+".kmsKeyId")
	c.boolean(m, "EnableCapture", p+".enableCapture")
	opts := list(m["CaptureOptions"])
	if c.required(m, "CaptureOptions", p+".captureOptions") && (len(opts) < 1 || len(opts) > 2) {
		c.fail(len(opts), p+".captureOptions", "have length between 1 and 2")
	}
	for i, o := range opts {
		c.enum(obj(o)["CaptureMode"], fmt.Sprintf("%s.captureOptions.%d.member.captureMode", p, i+1), "Input", "Output", "InputAndOutput")
	}
	if h, ok := m["CaptureContentTypeHeader"]; ok {
		hm := obj(h)
		for _, k := range []string{"CsvContentTypes", "JsonContentTypes"} {
			l := list(hm[k])
			if _, ok := hm[k]; ok && (len(l) < 1 || len(l) > 10) {
				c.fail(len(l), p+".captureContentTypeHeader."+lowerFirst(k), "have length between 1 and 10")
			}
			for i, ct := range l {
				c.str(ct, fmt.Sprintf("%s.captureContentTypeHeader.%s.%d.member", p, lowerFirst(k), i+1), 1, 256, nil)
			}
		}
	}
}

// transformExtras checks CreateTransformJob's keys and DataProcessing.
func (c *checker) transformExtras(req map[string]any) {
	c.kmsKey(obj(req["TransformOutput"]), "KmsKeyId", "transformOutput.kmsKeyId")
	c.kmsKey(obj(req["TransformResources"]), "VolumeKmsKeyId", "transformResources.volumeKmsKeyId")
	v, ok := req["DataProcessing"]
	if !ok {
		return
	}
	m := obj(v)
	for _, k := range []string{"InputFilter", "OutputFilter"} {
		if f, ok := m[k]; ok {
			c.str(f, "dataProcessing."+lowerFirst(k), 0, 63, nil)
		}
	}
	if j, ok := m["JoinSource"]; ok {
		c.enum(j, "dataProcessing.joinSource", "Input", "None")
	}
}

// processingSecurity checks CreateProcessingJob's NetworkConfig and keys; the
// processing job handler calls it with the decoded request.
func (c *checker) processingSecurity(req map[string]any) {
	if v, ok := req["NetworkConfig"]; ok {
		n := obj(v)
		if vpc, ok := n["VpcConfig"]; ok {
			c.vpc(vpc, "networkConfig.vpcConfig")
		}
		c.boolean(n, "EnableNetworkIsolation", "networkConfig.enableNetworkIsolation")
		c.boolean(n, "EnableInterContainerTrafficEncryption", "networkConfig.enableInterContainerTrafficEncryption")
	}
	c.kmsKey(obj(req["ProcessingOutputConfig"]), "KmsKeyId", "processingOutputConfig.kmsKeyId")
	c.kmsKey(obj(obj(req["ProcessingResources"])["ClusterConfig"]), "VolumeKmsKeyId", "processingResources.clusterConfig.volumeKmsKeyId")
}
