package cli

import (
	"strings"
	"testing"
)

// C2: --parallel is capped by the cores and by the memory a fold needs, and
// bounded as a flag.
func TestCVParallelCapped(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct {
		asked, folds, cores int
		perFold, limit      int64
		want                int
		note                string
	}{
		{100, 100, 2, 80 * mib, 8192 * mib, 2, "--parallel 100: capped at 2, the CPU cores"},
		{0, 5, 16, 80 * mib, 8192 * mib, 5, ""},
		{0, 10, 16, 600 * mib, 2048 * mib, 3, "--parallel: 3 folds at once, as many as fit in 2.0 GiB"},
		{4, 10, 8, 80 * mib, 0, 4, ""}, // memory unknown: cores only
	} {
		got, note, err := cvParallel(tt.asked, tt.folds, tt.cores, tt.perFold, tt.limit)
		if err != nil || got != tt.want || !strings.HasPrefix(note, tt.note) || (tt.note == "") != (note == "") {
			t.Errorf("cvParallel(%d, %d folds, %d cores, %d, %d) = %d %q %v; want %d %q", tt.asked, tt.folds, tt.cores, tt.perFold, tt.limit, got, note, err, tt.want, tt.note)
		}
	}
	if _, _, err := cvParallel(1, 5, 2, 3<<30, 2<<30); err == nil || !strings.Contains(err.Error(), "one fold needs about 3.0 GiB") {
		t.Errorf("a fold larger than memory: %v", err)
	}

	h := newHarness(t)
	for _, v := range []string{"1000000000", "-1", "101"} {
		r := h.run("cv", "--input", cvTable, "--parallel", v, "--output", t.TempDir())
		if ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "expected 0 (one per core) to 100") {
			t.Errorf("--parallel %s: %v", v, r.err)
		}
	}
	// A fold that cannot fit fails before any training.
	defer func(f func() int64) { cvMemory = f }(cvMemory)
	cvMemory = func() int64 { return 1 << 20 }
	r := h.run("cv", "--input", cvTable, "--folds", "2", "--epochs", "1", "--output", t.TempDir())
	if r.err == nil || !strings.Contains(r.err.Error(), "one fold needs about") || strings.Contains(r.stdout, "fold 1:") {
		t.Errorf("fold larger than memory: %v\n%s", r.err, r.stdout)
	}
}
