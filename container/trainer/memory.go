package trainer

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/model"
)

// MemoryLimit is the memory this process may use: the cgroup's limit when one
// is set, else the machine's total; 0 when neither can be read.
func MemoryLimit() int64 {
	total := memTotal()
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && (total == 0 || v < total) {
			return v
		}
	}
	return total
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// gib formats bytes in GiB for messages.
func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// checkMemory fails the job at start when the network's estimated training
// memory exceeds the instance's, naming the settings that decide it: the kernel
// would otherwise kill the job mid-training without a failure file.
func (r *run) checkMemory(cfg model.Config) error {
	limit := r.opts.MemoryBytes
	if limit == 0 {
		limit = MemoryLimit()
	}
	rows := 0
	for i := range r.train {
		rows = max(rows, r.train[i].NumRx())
	}
	est, err := model.EstimateTrainBytes(cfg, r.hp.BatchSize, rows)
	if err != nil {
		return err
	}
	r.log.printf("memory: training needs about %s (estimated); the instance has %s", gib(est), gib(limit))
	if limit > 0 && est > limit {
		return fmt.Errorf("hyperparameters encoder_units=%d, lstm_units=%d, batch_size=%d need about %s of memory to train (estimated at start), more than this instance's %s; lower them or choose an instance with more memory",
			cfg.EncoderUnits, cfg.LSTMUnits, r.hp.BatchSize, gib(est), gib(limit))
	}
	return nil
}
