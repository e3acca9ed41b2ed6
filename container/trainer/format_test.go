package trainer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline"
)

// dirFormat is a whole-input format for the test: a folder holding "samples.txt", one
// sample per line "subject pre post", read into one analyte "x".
type dirFormat struct{}

func init() { pipeline.RegisterFormat(dirFormat{}) }

func (dirFormat) Name() string { return "trainer-test" }

func (dirFormat) Detect(_ context.Context, in string, _ pipeline.ReadOptions) (bool, error) {
	_, err := os.Stat(filepath.Join(in, "samples.txt"))
	return err == nil, nil
}

func (dirFormat) Read(_ context.Context, inputs []string, _ pipeline.ReadOptions) (*pipeline.Dataset, *pipeline.Report, error) {
	ds := &pipeline.Dataset{Layout: pipeline.Layout{Analytes: []string{"x"}, EmbeddingDim: 2, BlockRows: 20, BlockFeatures: 4}}
	for _, in := range inputs {
		b, err := os.ReadFile(filepath.Join(in, "samples.txt"))
		if err != nil {
			return nil, nil, err
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var sub string
			var pre, post float32
			if _, err := fmt.Sscan(l, &sub, &pre, &post); err != nil {
				return nil, nil, err
			}
			ds.Samples = append(ds.Samples, pipeline.Sample{Subject: sub, Start: "2020-01-01",
				Pre: []float32{pre}, PreObserved: []bool{true}, Post: []float32{post}, PostObserved: []bool{true},
				Embeddings: [][]float32{{1, 0}}, Doses: []float32{1}, Units: []string{"mg"}})
		}
		ds.Sources = append(ds.Sources, pipeline.Source{Path: filepath.Join(in, "samples.txt"), Rows: len(ds.Samples)})
	}
	return ds, &pipeline.Report{Groups: len(ds.Samples)}, nil
}

// loadTrain discovers the channels of the tree at root, checks the train channel ch was
// detected in format, and loads the data with the hyperparameters hp; log is the run's
// log.
func loadTrain(t *testing.T, root string, hp map[string]string, format string) (r *run, ch *Channel, log *bytes.Buffer) {
	t.Helper()
	p := optml.Paths{Root: root}
	chs, err := discoverChannels(context.Background(), p, nil, pipeline.IsPrepared)
	if err != nil {
		t.Fatal(err)
	}
	if ch = chs[ChannelTrain]; ch.Format != format {
		t.Fatalf("channel %+v; want the %s format", ch, format)
	}
	h, err := parseHyperparameters(hp)
	if err != nil {
		t.Fatal(err)
	}
	log = &bytes.Buffer{}
	r = &run{p: p, hp: h, opts: Options{Getenv: func(string) string { return "" }},
		log: &logger{w: log, now: time.Now, start: time.Now()}}
	if err := r.loadData(context.Background(), chs); err != nil {
		t.Fatal(err)
	}
	return r, ch, log
}

// A channel folder a registered format claims is read whole by that format, although it
// holds no .csv table (before, the trainer refused it: "no .csv or .csv.gz tables").
func TestChannelInRegisteredFormat(t *testing.T) {
	var lines strings.Builder
	for i := range 40 {
		fmt.Fprintf(&lines, "s%d %d %d.5\n", i, i, i)
	}
	root := writeTree(t, withHP(map[string]string{"input/data/train/samples.txt": lines.String()}))
	r, ch, log := loadTrain(t, root, nil, "trainer-test")
	if len(ch.Files) != 0 {
		t.Fatalf("channel %+v; want a folder without listed files", ch)
	}
	if n := len(r.train) + len(r.validation) + len(r.test); n != 40 || r.layout.Analytes[0] != "x" {
		t.Fatalf("%d samples, layout %+v", n, r.layout)
	}
	if got := r.summary.Data.Channels[ChannelTrain].Files; len(got) != 1 || got[0] != "samples.txt" {
		t.Errorf("summary files %v", got)
	}
	if !strings.Contains(log.String(), "in the trainer-test format") {
		t.Errorf("log:\n%s", log.String())
	}
}
