package model

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestParallelForPanic: a panic in a worker goroutine comes back as that index's error
// (with its stack for the log) instead of ending the process.
func TestParallelForPanic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, workers := range []int{1, 2} {
		runtime.GOMAXPROCS(workers)
		err := parallelFor(8, func(i int) error {
			if i == 5 {
				panic("index out of range [9]")
			}
			return nil
		})
		var pe *PanicError
		if !errors.As(err, &pe) || err.Error() != "internal error: index out of range [9]" || !strings.Contains(string(pe.Stack), "panic_test.go") {
			t.Fatalf("GOMAXPROCS %d: error %v, want the worker's panic as a *PanicError with its stack", workers, err)
		}
	}
}
