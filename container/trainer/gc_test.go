package trainer

import (
	"bytes"
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

// TestTuneGCRestores: the settings hold for the run and are put back after it; GOGC in
// the environment is left alone.
func TestTuneGCRestores(t *testing.T) {
	var log bytes.Buffer
	env := map[string]string{}
	r := &run{opts: Options{Getenv: func(k string) string { return env[k] }, MemoryBytes: 8 << 30},
		log: &logger{w: &log, now: time.Now, start: time.Now()}}
	before := debug.SetGCPercent(77)
	defer debug.SetGCPercent(before)
	beforeLimit := debug.SetMemoryLimit(-1)

	restore := r.tuneGC()
	if p := debug.SetGCPercent(-1); p != 100 { // a test binary's live heap is small
		t.Errorf("GOGC during the run %d, want 100", p)
	}
	debug.SetGCPercent(100)
	job := int64(8 << 30)
	if l, want := debug.SetMemoryLimit(-1), int64(float64(job)*gcLimitShare); l != want {
		t.Errorf("memory limit %d, want %d", l, want)
	}
	restore()
	if p := debug.SetGCPercent(77); p != 77 || debug.SetMemoryLimit(-1) != beforeLimit {
		t.Errorf("after the run GOGC %d, limit not restored", p)
	}
	if !strings.Contains(log.String(), "live after reading the data; GOGC=100") {
		t.Errorf("log %q", log.String())
	}

	env["GOGC"] = "30"
	log.Reset()
	r.tuneGC()()
	if p := debug.SetGCPercent(77); p != 77 {
		t.Errorf("GOGC from the environment was overridden: %d", p)
	}
	if !strings.Contains(log.String(), "GOGC from the environment") {
		t.Errorf("log %q", log.String())
	}
}
