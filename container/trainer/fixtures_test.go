package trainer

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/internal/dockertest"
	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/golden"
)

const fixtureRoot = "../testdata/opt_ml"

// fixtureFile is one generated data file of an opt_ml fixture: the subjects
// [from, to) (in order of appearance) of one synthetic table.
type fixtureFile struct {
	path     string // relative to the fixture tree
	synth    pipeline.SynthOptions
	from, to int
}

var tinySynth = func(subjects int, seed int64) pipeline.SynthOptions {
	return pipeline.SynthOptions{Subjects: subjects, Seed: seed, EmbeddingDim: 8, GroupsPerSubject: 3, MeanPrescriptions: 3, Drugs: 10}
}

var fixtureFiles = []fixtureFile{
	{"basic/input/data/train/synthetic.csv", tinySynth(12, 1), 0, 12},
	{"channels/input/data/train/part-a/2126/a.csv.gz", tinySynth(20, 2), 0, 5},
	{"channels/input/data/train/part-b/b.csv", tinySynth(20, 2), 5, 10},
	{"channels/input/data/validation/validation.csv", tinySynth(20, 2), 10, 15},
	{"channels/input/data/test/test.csv", tinySynth(20, 2), 15, 20},
}

// generateFixture returns the CSV text of f (uncompressed).
func generateFixture(t testing.TB, f fixtureFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := pipeline.WriteSynthetic(&buf, f.synth); err != nil {
		t.Fatalf("synthesize %s: %v", f.path, err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("synthesize %s: %v", f.path, err)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	w.Write(records[0])
	index := map[string]int{}
	for _, rec := range records[1:] {
		id, ok := index[rec[0]]
		if !ok {
			id = len(index)
			index[rec[0]] = id
		}
		if id >= f.from && id < f.to {
			w.Write(rec)
		}
	}
	w.Flush()
	return out.Bytes()
}

func readMaybeGz(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return data
}

// TestFixtureData keeps the committed fixture CSVs identical to what the pipeline's
// synthesizer produces, so a change there cannot leave stale fixtures behind.
func TestFixtureData(t *testing.T) {
	for _, f := range fixtureFiles {
		want := generateFixture(t, f)
		path := filepath.Join(fixtureRoot, filepath.FromSlash(f.path))
		if golden.Updating() {
			data := want
			if strings.HasSuffix(path, ".gz") {
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				zw.Write(want)
				zw.Close()
				data = buf.Bytes()
			}
			golden.Write(t, path, data)
			continue
		}
		if got := readMaybeGz(t, path); !bytes.Equal(got, want) {
			t.Errorf("%s is stale: regenerate with go test ./container/trainer -run TestFixtureData -update", f.path)
		}
	}
}

// copyFixture copies an opt_ml fixture tree to a fresh temporary root.
func copyFixture(t testing.TB, name string) string {
	t.Helper()
	root := t.TempDir()
	dockertest.CopyTree(t, filepath.Join(fixtureRoot, name), root)
	return root
}
