package serve

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Serving variables of the official toolkits and batch transform.
const (
	EnvServerTimeout   = "SAGEMAKER_MODEL_SERVER_TIMEOUT"      // seconds one invocation may take
	EnvBatch           = "SAGEMAKER_BATCH"                     // "true" under batch transform (the SDK's local mode: "True")
	EnvMaxConcurrentTx = "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS" // parallel requests batch transform sends
)

// The platform stops waiting for an answer after 60 s on a real-time endpoint and
// after at most 3600 s (ModelClientConfig.InvocationsTimeoutInSeconds) in batch
// transform; a longer deadline would only do work nobody waits for.
const (
	realtimeTimeoutLimit = 60 * time.Second
	batchTimeoutLimit    = 3600 * time.Second
)

// applySageMakerEnv reads the timeout and batch concurrency the platform sets.
// maxInflightSet and budgetSet say whether our own variables or flags set those;
// batch concurrency only ever raises them.
func applySageMakerEnv(cfg *Config, getenv func(string) string, maxInflightSet, budgetSet bool) error {
	limit := realtimeTimeoutLimit
	if cfg.Batch { // ParseArgs read EnvBatch
		limit = batchTimeoutLimit
	}
	if v := strings.TrimSpace(getenv(EnvServerTimeout)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("serve: %s=%q: expected whole seconds, 1 or more", EnvServerTimeout, v)
		}
		d := time.Duration(n) * time.Second
		if d > limit {
			cfg.Note = fmt.Sprintf("%s=%d is over the platform's %v; using %v", EnvServerTimeout, n, limit, limit)
			d = limit
		}
		cfg.RequestTimeout = d
	}
	if v := strings.TrimSpace(getenv(EnvMaxConcurrentTx)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("serve: %s=%q: expected an integer in [1, 1024]", EnvMaxConcurrentTx, v)
		}
		// Batch transform sends n requests at once and fails records refused with 503:
		// admit them all, bodies of the largest payload included.
		if !maxInflightSet {
			cfg.MaxInflight = DefaultMaxInflight
		}
		cfg.MaxInflight = max(cfg.MaxInflight, n)
		if !budgetSet {
			cfg.MemoryBudget = DefaultMemoryBudget
		}
		cfg.MemoryBudget = max(cfg.MemoryBudget, int64(n)*BodyCost(cfg.MaxBodyBytes))
	}
	return nil
}
