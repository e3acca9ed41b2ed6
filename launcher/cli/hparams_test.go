package cli

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/hparams"
)

// withSpec adds s to hparams.Specs for the duration of the test.
func withSpec(t *testing.T, s hparams.Spec) {
	t.Helper()
	saved := hparams.Specs
	s.Alias = strings.ReplaceAll(s.Name, "_", "-")
	hparams.Specs = append(slices.Clone(saved), s)
	t.Cleanup(func() { hparams.Specs = saved })
}

// TestHyperparameterFlagsComeFromSpecs: a spec added to hparams.Specs, and nothing else,
// gives the launcher its flag, its --hp key, its grid and tuning-range parsing and its
// job-name tag, and the README table row; the real specs map one to one onto the flags.
func TestHyperparameterFlagsComeFromSpecs(t *testing.T) {
	withSpec(t, hparams.Spec{Name: "fake_knob", Field: "FakeKnob", Kind: hparams.Int, Default: "3",
		Min: 1, Max: 9, Tunable: true, Doc: "a knob only this test has"})

	var hp hpValues
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	hp.register(fs)
	for _, s := range hparams.Specs {
		f := fs.Lookup(s.Alias)
		if s.Tunable != (f != nil) {
			t.Errorf("%s: tunable %v, flag --%s registered %v", s.Name, s.Tunable, s.Alias, f != nil)
		}
		if f != nil && !strings.Contains(f.Usage, s.Doc) {
			t.Errorf("--%s usage %q lacks the spec's doc", s.Alias, f.Usage)
		}
	}
	if err := fs.Parse([]string{"--fake-knob", "7", "--hp", "seed=5"}); err != nil {
		t.Fatal(err)
	}
	if hp.values["fake_knob"] != "7" || hp.values["seed"] != "5" {
		t.Errorf("parsed %v", hp.values)
	}
	if err := fs.Parse([]string{"--fake-knob", "10"}); err == nil || !strings.Contains(err.Error(), "[1, 9]") {
		t.Errorf("out-of-range --fake-knob: %v", err)
	}

	r, err := parseRange("--range", "fake-knob=2:5")
	if err != nil || r.name != "fake_knob" || r.kind != kindInteger || r.min != "2" || r.max != "5" {
		t.Errorf("parseRange: %+v, %v", r, err)
	}
	if _, err := parseRange("--range", "fake_knob=0:5"); err == nil {
		t.Error("parseRange accepted a minimum below the spec's range")
	}
	axes, err := parseGrid("--grid", "fake_knob=2,4", maxSweepJobs)
	if err != nil || len(axes) != 1 || !slices.Equal(axes[0].values, []string{"2", "4"}) {
		t.Errorf("parseGrid: %+v, %v", axes, err)
	}
	if tag := hpTag(map[string]string{"fake_knob": "4", "epochs": "20"}, hparams.Tunables()); tag != "e20-fk4" {
		t.Errorf("hpTag = %q, want e20-fk4", tag)
	}
	if !strings.Contains(hparams.MarkdownTable(), "| `fake_knob` (`fake-knob`) | integer | `3` | [1, 9] | a knob only this test has |") {
		t.Errorf("README table lacks the new spec:\n%s", hparams.MarkdownTable())
	}
}

// specDefault is the declared default of the hyperparameter name.
func specDefault(name string) string {
	s, _ := hparams.Lookup(name)
	return s.Default
}
