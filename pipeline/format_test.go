package pipeline_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// exampleFormat is a small whole-input format written only against the package's
// exported API, as a new format package would be: a folder holding one or more
// "*.example" files, one sample per line "subject,date,pre,post,drug,dose" with a single
// analyte "x". Adding it took this type and the one registration line in init.
type exampleFormat struct{}

func init() { pipeline.RegisterFormat(exampleFormat{}) }

// exampleReads counts the reads ReadTables handed to the format.
var exampleReads atomic.Int32

const exampleDim = 4

func (exampleFormat) Name() string { return "example" }

func (exampleFormat) Detect(_ context.Context, input string, _ pipeline.ReadOptions) (bool, error) {
	if strings.HasSuffix(input, ".broken-example") {
		return false, errors.New("cannot list it")
	}
	files, err := exampleFiles(input)
	return err == nil && len(files) > 0, nil
}

func exampleFiles(input string) ([]string, error) {
	if strings.HasSuffix(input, ".example") {
		return []string{input}, nil
	}
	return filepath.Glob(filepath.Join(input, "*.example"))
}

func (exampleFormat) Read(_ context.Context, inputs []string, _ pipeline.ReadOptions) (*pipeline.Dataset, *pipeline.Report, error) {
	exampleReads.Add(1)
	ds := &pipeline.Dataset{Layout: pipeline.Layout{Analytes: []string{"x"}, EmbeddingDim: exampleDim, BlockRows: 20, BlockFeatures: exampleDim + 2}}
	rep := &pipeline.Report{}
	for _, in := range inputs {
		files, err := exampleFiles(in)
		if err != nil {
			return nil, nil, err
		}
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				return nil, nil, err
			}
			sc := bufio.NewScanner(f)
			rows := 0
			for sc.Scan() {
				rows++
				c := strings.Split(sc.Text(), ",")
				if len(c) != 6 {
					f.Close()
					return nil, nil, fmt.Errorf("%s:%d: expected 6 fields", name, rows)
				}
				pre, _ := strconv.ParseFloat(c[2], 32)
				post, _ := strconv.ParseFloat(c[3], 32)
				dose, _ := strconv.ParseFloat(c[5], 32)
				ds.Samples = append(ds.Samples, pipeline.Sample{Subject: c[0], Start: c[1],
					Pre: []float32{float32(pre)}, PreObserved: []bool{true}, Post: []float32{float32(post)}, PostObserved: []bool{true},
					Embeddings: [][]float32{pipeline.EmbedText(c[4], exampleDim)}, Doses: []float32{float32(dose)}, Units: []string{"mg"}})
			}
			f.Close()
			ds.Sources = append(ds.Sources, pipeline.Source{Path: name, Rows: rows})
			rep.Files++
			rep.RowsRead += rows
		}
	}
	rep.Groups = len(ds.Samples)
	return ds, rep, nil
}

func writeExample(t *testing.T, subjects int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for i := range subjects {
		fmt.Fprintf(&b, "s%d,2020-01-0%d,%d,%d.5,aspirin,%d\n", i, i%9+1, i, i, 10*i)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.example"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ReadTables hands inputs a registered format claims to that format's Read.
func TestReadTablesDispatchesToRegisteredFormat(t *testing.T) {
	dir := writeExample(t, 3)
	before := exampleReads.Load()
	ds, rep, err := pipeline.ReadTables(context.Background(), []string{dir}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := exampleReads.Load() - before; got != 1 {
		t.Fatalf("example format read %d times; expected once", got)
	}
	if len(ds.Samples) != 3 || ds.Samples[2].Subject != "s2" || ds.Samples[2].Post[0] != 2.5 || rep.Groups != 3 {
		t.Fatalf("samples %+v, report %+v", ds.Samples, rep)
	}
	if len(ds.Sources) != 1 || ds.Sources[0].Path != filepath.Join(dir, "a.example") {
		t.Fatalf("sources %+v", ds.Sources)
	}
	if !slices.Contains(pipeline.Formats(), "example") {
		t.Fatalf("Formats() = %v", pipeline.Formats())
	}
	if f, err := pipeline.DetectFormat(context.Background(), dir, pipeline.ReadOptions{}); err != nil || f == nil || f.Name() != "example" {
		t.Fatalf("DetectFormat = %v, %v", f, err)
	}

	// CSV tables no format claims are read as before, without the format's Read
	before = exampleReads.Load()
	if _, _, err := pipeline.ReadTables(context.Background(), []string{"testdata/synthetic_small.csv"}, pipeline.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	if exampleReads.Load() != before {
		t.Fatal("a CSV table was handed to the example format")
	}
}

// Prepare reads through ReadTables, so a registered format's inputs prepare too.
func TestPrepareReadsRegisteredFormat(t *testing.T) {
	dir := writeExample(t, 9)
	out := filepath.Join(t.TempDir(), "prepared")
	sum, err := pipeline.Prepare(context.Background(), pipeline.PrepareOptions{Inputs: []string{dir}, Output: out, Seed: 1, Fractions: [3]float64{0.6, 0.2, 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sp := range sum.Splits {
		n += sp.Samples
	}
	if n != 9 || sum.Layout.Analytes[0] != "x" {
		t.Fatalf("prepared %d samples, layout %+v", n, sum.Layout)
	}
}

func TestReadTablesFormatErrors(t *testing.T) {
	dir := writeExample(t, 2)
	ctx := context.Background()
	_, _, err := pipeline.ReadTables(ctx, []string{dir, "testdata/synthetic_small.csv"}, pipeline.ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), dir+" is in the example format but testdata/synthetic_small.csv is a CSV table input; expected every input in one format") {
		t.Fatalf("mixed inputs: %v", err)
	}
	_, _, err = pipeline.ReadTables(ctx, []string{"testdata/synthetic_small.csv", dir}, pipeline.ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "testdata/synthetic_small.csv is a CSV table input but "+dir+" is in the example format") {
		t.Fatalf("mixed inputs: %v", err)
	}
	_, _, err = pipeline.ReadTables(ctx, []string{"x.broken-example"}, pipeline.ReadOptions{})
	if err == nil || err.Error() != "x.broken-example: detecting the example format: cannot list it" {
		t.Fatalf("detect error: %v", err)
	}
}

func TestRegisterFormatTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	pipeline.RegisterFormat(exampleFormat{})
}
