package pipeline

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/blueblood/blueblood/pipeline/golden"
)

// Fixture options: the committed fixtures are exactly what these produce.
var (
	smallFixtureOptions   = SynthOptions{Subjects: 60, Seed: 1, GroupsPerSubject: 2, MeanPrescriptions: 4}
	bundledFixtureOptions = SynthOptions{Subjects: 300, Seed: 1}
)

func TestSyntheticFixtures(t *testing.T) {
	tests := []struct {
		file    string
		opt     SynthOptions
		gz      bool
		maxSize int
	}{
		{"testdata/synthetic_small.csv", smallFixtureOptions, false, 1 << 20},
		{"testdata/synthetic.csv.gz", bundledFixtureOptions, true, 2 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var want bytes.Buffer
			if _, err := WriteSynthetic(&want, tc.opt); err != nil {
				t.Fatal(err)
			}
			if golden.Updating() {
				data := want.Bytes()
				if tc.gz {
					var z bytes.Buffer
					zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
					zw.Write(data)
					if err := zw.Close(); err != nil {
						t.Fatal(err)
					}
					data = z.Bytes()
				}
				golden.Write(t, tc.file, data)
			}
			st, err := os.Stat(tc.file)
			if err != nil {
				t.Fatalf("%v (regenerate with go test ./pipeline -run TestSyntheticFixtures -update)", err)
			}
			if st.Size() > int64(tc.maxSize) {
				t.Errorf("%s is %d bytes, want at most %d", tc.file, st.Size(), tc.maxSize)
			}
			f, err := os.Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var r io.Reader = f
			if tc.gz {
				zr, err := gzip.NewReader(f)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("%s differs from the generator's output (%d vs %d bytes); regenerate with -update", tc.file, len(got), want.Len())
			}
		})
	}
}
