package model

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/pipeline"
)

// trained returns a briefly trained model so predictions depend on every weight.
func trained(t testing.TB, f *fixture, arch string) *Model {
	t.Helper()
	m := mustNew(t, f.config(arch), f, 1)
	if _, err := m.Train(context.Background(), f.train, f.val, trainOpts(3)); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOrderInvariance: permuting a sample's prescription rows must not change the
// pooled encoder's prediction beyond float rounding of the sum.
func TestOrderInvariance(t *testing.T) {
	f := newFixture(t, defaultSynth(), 80, 20, 0)
	m := trained(t, f, ArchPooledResidual)
	orig := cloneSamples(f.val)
	perm := cloneSamples(f.val)
	permuted := 0
	for i := range perm {
		s := &perm[i]
		n := s.NumRx()
		if n < 2 {
			continue
		}
		permuted++
		// reverse the rows
		for a, b := 0, n-1; a < b; a, b = a+1, b-1 {
			s.Doses[a], s.Doses[b] = s.Doses[b], s.Doses[a]
			s.Units[a], s.Units[b] = s.Units[b], s.Units[a]
			s.Embeddings[a], s.Embeddings[b] = s.Embeddings[b], s.Embeddings[a]
		}
	}
	if permuted < 5 {
		t.Fatalf("only %d samples have two or more rows", permuted)
	}
	p1, err := m.Predict(orig)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := m.Predict(perm)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p1 {
		for j := range p1[i] {
			scale := float64(f.sc.Std[j])
			if d := math.Abs(float64(p1[i][j]-p2[i][j])) / scale; d > 1e-5 {
				t.Errorf("sample %d analyte %d: %v vs %v after permuting rows", i, j, p1[i][j], p2[i][j])
			}
		}
	}
	// the seed flattens rows into slots with their own weights: permuting must matter,
	// or the test above could not tell the two encoders apart
	ms := trained(t, f, ArchSeed)
	s1, _ := ms.Predict(orig)
	s2, _ := ms.Predict(perm)
	if slices.EqualFunc(s1, s2, slices.Equal) {
		t.Error("the seed network is order-invariant too: the permutation did nothing")
	}
}

// TestResidualHead zeroes the output layer so the network's change is 0: the prediction
// must then be the pre value where it was observed and the scaled-space zero (the
// training mean of the scaler) where it was not, whatever the missing pre value holds.
func TestResidualHead(t *testing.T) {
	f := newFixture(t, defaultSynth(), 80, 20, 0)
	m := trained(t, f, ArchPooledResidual)
	for _, s := range m.specs {
		if s.Name == "out_w" || s.Name == "out_b" {
			clear(m.params[s.Off : s.Off+s.size()])
		}
	}
	smp := cloneSamples(f.val[:4])
	for i := range smp {
		smp[i].PreObserved[0] = false
		smp[i].Pre[0] = float32(1000 * (i + 1)) // garbage where missing must be ignored
		smp[i].PreObserved[1] = true
	}
	pred, err := m.Predict(smp)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range smp {
		for j := range s.Pre {
			want := float64(f.sc.Mean[j])
			if s.PreObserved[j] {
				want = float64(s.Pre[j])
			}
			if math.Abs(float64(pred[i][j])-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Errorf("sample %d analyte %d (pre observed %v): predicted %v, expected %v", i, j, s.PreObserved[j], pred[i][j], want)
			}
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	f := newFixture(t, defaultSynth(), 80, 20, 0)
	for _, arch := range []string{ArchPooledResidual, ArchSeed} {
		t.Run(arch, func(t *testing.T) {
			m := trained(t, f, arch)
			m.SetHyperparameters(map[string]string{"max_prescriptions": "0"})
			dir := filepath.Join(t.TempDir(), "model")
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{modelFile, weightsFile} {
				st, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o644 {
					t.Errorf("%s: mode %v, want 0644 so servers and archives can read it", name, st.Mode().Perm())
				}
			}
			l, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			want, err := m.Predict(f.val)
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.Predict(f.val)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(want, got, slices.Equal) {
				t.Error("loaded model predicts differently")
			}
			if l.Config().Architecture != arch || l.Hyperparameters()["max_prescriptions"] != "0" || l.Hyperparameters()["batch_size"] != "16" {
				t.Errorf("loaded config %+v, hyperparameters %v", l.Config(), l.Hyperparameters())
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("save left %d files, expected model.json and weights.bin", len(entries))
			}

			// corruptions are reported, never loaded
			w := filepath.Join(dir, weightsFile)
			data, _ := os.ReadFile(w)
			data[10] ^= 1
			os.WriteFile(w, data, 0o644)
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "checksum") {
				t.Errorf("flipped bit: %v", err)
			}
			os.WriteFile(w, data[:len(data)-4], 0o644)
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "bytes") {
				t.Errorf("truncated weights: %v", err)
			}
			js, _ := os.ReadFile(filepath.Join(dir, modelFile))
			os.WriteFile(filepath.Join(dir, modelFile), []byte(strings.Replace(string(js), fmt.Sprintf(`"format_version": %d`, formatVersion), `"format_version": 9`, 1)), 0o644)
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "format_version 9") {
				t.Errorf("future format: %v", err)
			}
			if _, err := Load(t.TempDir()); err == nil {
				t.Error("loading an empty directory succeeded")
			}
		})
	}
}

// TestPredictConcurrent: single-sample predictions made concurrently are bit for bit those
// made one at a time, and agree with the whole batch's. Across batch sizes only closely:
// OpenBLAS picks its kernel by matrix shape, so a batch of 1 and one of 64 may round apart.
func TestPredictConcurrent(t *testing.T) {
	f := newFixture(t, defaultSynth(), 80, 40, 0)
	m := trained(t, f, ArchPooledResidual)
	batch, err := m.Predict(f.val)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]float32, len(f.val))
	for i := range f.val {
		one, err := m.Predict(f.val[i : i+1])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = one[0]
		for j, v := range want[i] {
			if d := math.Abs(float64(v - batch[i][j])); d > 1e-5*math.Max(1, math.Abs(float64(v))) {
				t.Fatalf("sample %d analyte %d: alone %v, in the batch %v", i, j, v, batch[i][j])
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 5; k++ {
				i := (g*7 + k) % len(f.val)
				one, err := m.Predict(f.val[i : i+1])
				if err != nil {
					errs <- err.Error()
					return
				}
				if !slices.Equal(one[0], want[i]) {
					errs <- "concurrent single-sample prediction differs from the sequential one"
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestBadConfig(t *testing.T) {
	f := newFixture(t, defaultSynth(), 20, 5, 0)
	good := f.config(ArchPooledResidual)
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"architecture", func(c *Config) { c.Architecture = "transformer" }, "architecture"},
		{"units", func(c *Config) { c.LSTMUnits = 0 }, "lstm_units"},
		{"encoder", func(c *Config) { c.EncoderUnits = -1 }, "encoder_units"},
		{"dropout one", func(c *Config) { c.DropoutRate = 1 }, "dropout_rate"},
		{"dropout nan", func(c *Config) { c.DropoutRate = math.NaN() }, "dropout_rate"},
		{"no analytes", func(c *Config) { c.Layout.Analytes = nil }, "no analytes"},
		{"seed block too small", func(c *Config) { c.Architecture = ArchSeed; c.Layout.BlockRows = 2; c.Layout.BlockFeatures = 4 }, "seed block"},
		{"seed rows too wide", func(c *Config) { c.Architecture = ArchSeed; c.Layout.BlockFeatures = 7 }, "prescription row width"},
		{"scaler mismatch", func(c *Config) { c.Layout.Analytes = []string{"x", "y", "z", "u", "v"} }, "scaler"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			cfg.Layout.Analytes = slices.Clone(good.Layout.Analytes)
			c.edit(&cfg)
			_, err := New(cfg, f.sc, 1)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: %v, expected an error mentioning %q", err, c.want)
			}
		})
	}
	if _, err := New(good, nil, 1); err == nil {
		t.Error("New with a nil scaler succeeded")
	}
}

func TestBadSamples(t *testing.T) {
	f := newFixture(t, defaultSynth(), 40, 10, 0)
	cases := []struct {
		name string
		arch string
		edit func(*pipeline.Sample)
		want string
	}{
		{"short pre", ArchPooledResidual, func(s *pipeline.Sample) { s.Pre = s.Pre[:2] }, "pre values"},
		{"short post mask", ArchPooledResidual, func(s *pipeline.Sample) { s.PostObserved = s.PostObserved[:1] }, "post flags"},
		{"nan pre", ArchPooledResidual, func(s *pipeline.Sample) { s.Pre[1], s.PreObserved[1] = float32(math.NaN()), true }, "finite"},
		{"inf post", ArchSeed, func(s *pipeline.Sample) { s.Post[2], s.PostObserved[2] = float32(math.Inf(1)), true }, "finite"},
		{"nan embedding", ArchPooledResidual, func(s *pipeline.Sample) {
			s.Embeddings[0] = append([]float32{float32(math.NaN())}, s.Embeddings[0][1:]...) // rows are shared: replace, not write
		}, "finite"},
		{"ragged embeddings", ArchPooledResidual, func(s *pipeline.Sample) { s.Embeddings = s.Embeddings[1:] }, "embedding rows"},
		{"short embedding row", ArchPooledResidual, func(s *pipeline.Sample) { s.Embeddings[0] = s.Embeddings[0][1:] }, "embedding values"},
		{"missing units", ArchPooledResidual, func(s *pipeline.Sample) { s.Units = nil }, "units"},
		{"seed overflow", ArchSeed, func(s *pipeline.Sample) {
			for s.NumRx() <= f.spec.blockRows {
				s.Embeddings = append(s.Embeddings, s.Embeddings[0])
				s.Doses = append(s.Doses, 1)
				s.Units = append(s.Units, "mg")
			}
		}, "overflow policy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mustNew(t, f.config(c.arch), f, 1)
			train := cloneSamples(f.train)
			c.edit(&train[7])
			_, err := m.Train(context.Background(), train, f.val, trainOpts(1))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "sample 7") {
				t.Errorf("Train: %v, expected an error naming sample 7 and %q", err, c.want)
			}
			if c.name == "short post mask" || c.name == "inf post" {
				return // Predict ignores post values
			}
			if _, err := m.Predict(train[7:8]); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Predict: %v, expected an error mentioning %q", err, c.want)
			}
		})
	}
}

func TestBadTrainOptions(t *testing.T) {
	f := newFixture(t, defaultSynth(), 20, 5, 0)
	m := mustNew(t, f.config(ArchPooledResidual), f, 1)
	cases := []struct {
		name string
		edit func(*TrainOptions)
		val  []pipeline.Sample
		want string
	}{
		{"epochs", func(o *TrainOptions) { o.Epochs = 0 }, f.val, "epochs"},
		{"batch", func(o *TrainOptions) { o.BatchSize = 0 }, f.val, "batch_size"},
		{"lr", func(o *TrainOptions) { o.LearningRate = math.NaN() }, f.val, "learning_rate"},
		{"clip", func(o *TrainOptions) { o.ClipNorm = -1 }, f.val, "clip_norm"},
		{"weight decay negative", func(o *TrainOptions) { o.WeightDecay = -0.1 }, f.val, "weight_decay=-0.1: expected a number in [0, 1]"},
		{"weight decay above 1", func(o *TrainOptions) { o.WeightDecay = 2 }, f.val, "weight_decay=2: expected a number in [0, 1]"},
		{"weight decay NaN", func(o *TrainOptions) { o.WeightDecay = math.NaN() }, f.val, "weight_decay"},
		{"patience", func(o *TrainOptions) { o.Patience = -1 }, f.val, "patience"},
		{"no validation", func(o *TrainOptions) {}, nil, "validation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := trainOpts(1)
			c.edit(&opt)
			_, err := m.Train(context.Background(), f.train, c.val, opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, expected an error mentioning %q", err, c.want)
			}
		})
	}
}

// specDefault is the trainer's default of a numeric hyperparameter, read from its spec,
// so harness runs labelled "defaults" train with the defaults.
func specDefault(name string) float64 {
	s, _ := hparams.Lookup(name)
	v, err := strconv.ParseFloat(s.Default, 64)
	if err != nil {
		panic(err)
	}
	return v
}

// defaultTrainOptions are the trainer's default training options with the given seed.
func defaultTrainOptions(seed int64) TrainOptions {
	return TrainOptions{Epochs: int(specDefault("epochs")), BatchSize: int(specDefault("batch_size")),
		LearningRate: specDefault("learning_rate"), Patience: int(specDefault("patience")),
		Seed: seed, WeightDecay: specDefault("weight_decay")}
}
