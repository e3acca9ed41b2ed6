package processing

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/mimic"
)

// A processing job whose input is a native MIMIC folder pairs it with the windows sent
// as arguments; summary.json carries the pairs.
func TestRunPairsMIMIC(t *testing.T) {
	p := jobTree(t, map[string]string{"input-1": testTable})
	in := p.ProcessingInput("input-1")
	if err := os.Remove(filepath.Join(in, filepath.Base(testTable))); err != nil {
		t.Fatal(err)
	}
	if _, err := mimic.WriteSynth(in, mimic.SynthOptions{Subjects: 30, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	args, err := Arguments(pipeline.PrepareOptions{Seed: 7, Read: pipeline.ReadOptions{Pairing: pipeline.Pairing{Analytes: "Potassium", PreWindowHours: 12, MinLagHours: 1, PostWindowHours: 12}}})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), Options{Root: p.Root, Args: args[1:], Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var sum pipeline.Summary
	b, _ := os.ReadFile(filepath.Join(p.ProcessingOutput(OutputName), "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	pr := sum.Read.Pairs
	if pr == nil || pr.Pairing.PostWindowHours != 12 || len(pr.Analytes) != 1 || pr.Analytes[0].Pairs == 0 || pr.Analytes[0].PostHours.Max > 12 {
		t.Fatalf("pairs %+v; want potassium paired within 12 h", pr)
	}
}
