package mimic

import (
	"context"
	"os"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// BenchmarkRead reads a generated MIMIC-IV folder with the chemistry windows; set
// MIMIC_BENCH_DIR to read another folder (e.g. one launcher synth --format mimic-iv
// wrote). It reports compressed MB/s and labevents rows/s.
func BenchmarkRead(b *testing.B) {
	dir := os.Getenv("MIMIC_BENCH_DIR")
	if dir == "" {
		dir, _ = synthDir(b, SynthOptions{Subjects: 500, Seed: 1, LabRows: 500_000})
	}
	b.ResetTimer()
	var rows, bytes int64
	for i := 0; i < b.N; i++ {
		ds, rep, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		rows += int64(rep.Pairs.LabRows)
		for _, s := range ds.Sources {
			bytes += s.Bytes
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(rows)/sec, "rows/s")
	b.ReportMetric(float64(bytes)/1e6/sec, "MB/s")
}
