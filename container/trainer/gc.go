package trainer

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
)

// GC goal once the data is read: what is live plus the larger of gcHeadroom and
// gcFraction of it, never more than Go's default (twice what is live).
const (
	gcHeadroom = 256 << 20
	gcFraction = 0.25
	// gcLimitShare of the job's memory is the soft limit past which the collector works
	// harder rather than let the kernel kill the job.
	gcLimitShare = 0.9
)

// gcPercent is the GOGC value that makes the heap goal live + max(gcHeadroom,
// gcFraction x live), capped at Go's default of 100.
func gcPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	p := math.Max(gcFraction, float64(gcHeadroom)/float64(live)) * 100
	return int(math.Min(100, math.Ceil(p)))
}

// tuneGC sets the collector for the rest of the run, after the inputs are read: the
// live heap is then mostly the samples, read-only from here on, and training's
// allocations are small and short-lived, so the default goal (the heap may double
// before a collection) buys nothing but resident memory: 1.2 GB of samples at 10^6
// would grow to 2.4 GB. GOGC or GOMEMLIMIT in the environment win. It returns a
// function that restores the previous settings (they are the process's, and tests run
// many jobs in one).
func (r *run) tuneGC() (restore func()) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := ms.HeapAlloc
	prevPercent, prevLimit := -2, int64(-1)
	gogc := "GOGC from the environment"
	if r.opts.Getenv("GOGC") == "" {
		p := gcPercent(live)
		prevPercent = debug.SetGCPercent(p)
		gogc = fmt.Sprintf("GOGC=%d", p)
	}
	limit := r.opts.MemoryBytes
	if limit == 0 {
		limit = MemoryLimit()
	}
	if r.opts.Getenv("GOMEMLIMIT") == "" && limit > 0 {
		prevLimit = debug.SetMemoryLimit(int64(float64(limit) * gcLimitShare))
	}
	r.log.printf("memory: %s live after reading the data; %s", gib(int64(live)), gogc)
	return func() {
		if prevPercent != -2 {
			debug.SetGCPercent(prevPercent)
		}
		if prevLimit >= 0 {
			debug.SetMemoryLimit(prevLimit)
		}
	}
}
