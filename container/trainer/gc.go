package trainer

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// The collector's goal during a run: what is live plus the larger of gcHeadroom and
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

// gcTuner keeps GOGC at gcPercent of the live heap for the whole run. Go's default
// lets the heap double before each collection; a training run's live heap is mostly
// its samples (read once, read-only after) and what training allocates is small and
// short-lived, so doubling buys nothing but resident memory: at 10^6 samples the
// default goal is twice a gigabyte. There is no hook after a collection but a
// finalizer, so each collection finalizes a sentinel that re-arms the next.
type gcTuner struct {
	stopped  atomic.Bool
	last     atomic.Int64 // the GOGC set last
	adjusted atomic.Int64 // collections seen, for tests
}

type gcSentinel struct{ t *gcTuner } // holds a pointer: never tiny-allocated

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t}, func(s *gcSentinel) {
		if s.t.stopped.Load() {
			return
		}
		s.t.adjust()
		s.t.arm()
	})
}

// adjust sets GOGC from the live heap of the last collection and returns both.
func (t *gcTuner) adjust() (live uint64, percent int) {
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(m)
	if m[0].Value.Kind() == metrics.KindUint64 {
		live = m[0].Value.Uint64()
	}
	percent = gcPercent(live)
	if int64(percent) != t.last.Swap(int64(percent)) {
		debug.SetGCPercent(percent)
	}
	t.adjusted.Add(1)
	return live, percent
}

// tuneGC starts the run's collector settings: the tuner (unless GOGC is set in the
// environment) and a soft limit of gcLimitShare of the job's memory (unless GOMEMLIMIT
// is). It returns the tuner (nil when GOGC is set) and a function that stops it and
// restores the previous settings: they are the process's, and tests run many jobs in one.
func (r *run) tuneGC() (*gcTuner, func()) {
	var t *gcTuner
	prevPercent, prevLimit := -2, int64(-1)
	if r.opts.Getenv("GOGC") == "" {
		t = &gcTuner{}
		prevPercent = debug.SetGCPercent(100)
		t.last.Store(100)
		t.arm()
	}
	limit := r.opts.MemoryBytes
	if limit == 0 {
		limit = MemoryLimit()
	}
	if r.opts.Getenv("GOMEMLIMIT") == "" && limit > 0 {
		prevLimit = debug.SetMemoryLimit(int64(float64(limit) * gcLimitShare))
	}
	return t, func() {
		if t != nil {
			t.stopped.Store(true)
		}
		if prevPercent != -2 {
			debug.SetGCPercent(prevPercent)
		}
		if prevLimit >= 0 {
			debug.SetMemoryLimit(prevLimit)
		}
	}
}

// logLive collects and logs the live heap once the data is read, and the GOGC the
// tuner set for it.
func (r *run) logLive(t *gcTuner) {
	runtime.GC()
	if t == nil {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		r.log.printf("memory: %s live after reading the data; GOGC from the environment", gib(int64(ms.HeapAlloc)))
		return
	}
	live, p := t.adjust()
	r.log.printf("memory: %s live after reading the data; %s", gib(int64(live)), fmt.Sprintf("GOGC=%d", p))
}
