package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is this process's user+system CPU time. The machine is shared, so wall-clock
// MB/s understates throughput when other work competes; MB/cpu-s reports the cost.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration, size int64) {
	if d := cpuTime() - start; d > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/d.Seconds()/1e6, "MB/cpu-s")
	}
}

// benchTable writes a generated final-format table of about 10 MB per 300 subjects.
func benchTable(b *testing.B, subjects int) (string, int64) {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := WriteSynthetic(f, SynthOptions{Subjects: subjects, Seed: 9}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(p)
	return p, st.Size()
}

// BenchmarkPrepare measures parsing + preparing (read, group, limit, split, fit, write)
// in MB/s of CSV.
func BenchmarkPrepare(b *testing.B) {
	p, size := benchTable(b, 600)
	out := filepath.Join(b.TempDir(), "out")
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start, size)
	for i := 0; i < b.N; i++ {
		if _, err := Prepare(context.Background(), PrepareOptions{Inputs: []string{p}, Output: out, MaxPrescriptions: 20, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadTables measures parsing and grouping alone.
func BenchmarkReadTables(b *testing.B) {
	p, size := benchTable(b, 600)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start, size)
	for i := 0; i < b.N; i++ {
		if _, _, err := ReadTables(context.Background(), []string{p}, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
