package trainer

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{100 << 20, 100}, // small data: Go's default, never more
		{512 << 20, 50},  // the 256 MB headroom
		{1 << 30, 25},    // a quarter of the live heap
		{8 << 30, 25},
	} {
		if got := gcPercent(tc.live); got != tc.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

// TestTuneGCRestores: the tuner re-arms after every collection for the run, the settings
// are put back after it, and GOGC in the environment is left alone.
func TestTuneGCRestores(t *testing.T) {
	var log bytes.Buffer
	env := map[string]string{}
	r := &run{opts: Options{Getenv: func(k string) string { return env[k] }, MemoryBytes: 8 << 30},
		log: &logger{w: &log, now: time.Now, start: time.Now()}}
	before := debug.SetGCPercent(77)
	defer debug.SetGCPercent(before)
	beforeLimit := debug.SetMemoryLimit(-1)

	tuner, restore := r.tuneGC()
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	waitFor(t, func() bool { return tuner.adjusted.Load() >= 2 }, "the tuner to run after collections")
	if p := debug.SetGCPercent(100); p != 100 { // a test binary's live heap is small
		t.Errorf("GOGC during the run %d, want 100", p)
	}
	job := int64(8 << 30)
	if l, want := debug.SetMemoryLimit(-1), int64(float64(job)*gcLimitShare); l != want {
		t.Errorf("memory limit %d, want %d", l, want)
	}
	r.logLive(tuner)
	if !strings.Contains(log.String(), "live after reading the data; GOGC=100") {
		t.Errorf("log %q", log.String())
	}
	restore()
	if p := debug.SetGCPercent(77); p != 77 || debug.SetMemoryLimit(-1) != beforeLimit {
		t.Errorf("after the run GOGC %d, limit not restored", p)
	}
	runtime.GC()
	time.Sleep(50 * time.Millisecond) // a pending finalizer would run now
	n := tuner.adjusted.Load()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if tuner.adjusted.Load() != n {
		t.Error("the tuner still runs after the run")
	}
	if p := debug.SetGCPercent(77); p != 77 {
		t.Errorf("a stopped tuner changed GOGC to %d", p)
	}

	env["GOGC"] = "30"
	log.Reset()
	tuner, restore = r.tuneGC()
	if tuner != nil {
		t.Error("a tuner with GOGC set in the environment")
	}
	r.logLive(tuner)
	restore()
	if p := debug.SetGCPercent(77); p != 77 {
		t.Errorf("GOGC from the environment was overridden: %d", p)
	}
	if !strings.Contains(log.String(), "GOGC from the environment") {
		t.Errorf("log %q", log.String())
	}
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
