package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/blueblood/blueblood/container/serve/inputheader"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// trained adapts *model.Model to Model.
type trained struct {
	m       *model.Model
	layout  pipeline.Layout
	version string
	header  []string // the training table's header, nil when not stored
}

// FromModel wraps a trained model; version is reported with every answer.
func FromModel(m *model.Model, version string) Model {
	return &trained{m: m, layout: m.Config().Layout, version: version}
}

func (t *trained) Predict(s []pipeline.Sample) ([][]float32, error) { return t.m.Predict(s) }
func (t *trained) Layout() pipeline.Layout                          { return t.layout }
func (t *trained) KnownUnit(u string) bool                          { return t.m.Scaler().KnownUnit(u) }
func (t *trained) Version() string                                  { return t.version }
func (t *trained) TrainingHeader() []string                         { return t.header }

// CheckInput rejects values that stop being finite numbers once scaled with the
// training statistics (the model would refuse them); the message names the analyte.
func (t *trained) CheckInput(s *pipeline.Sample) error {
	sc := t.m.Scaler()
	for j, obs := range s.PreObserved {
		if v := sc.ScaleAnalyte(j, s.Pre[j]); obs && (math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)) {
			return fmt.Errorf("pre %s: %v is too far outside the training range to scale", t.layout.Analytes[j], s.Pre[j])
		}
	}
	for k, d := range s.Doses {
		if v := sc.ScaleDose(d, s.Units[k]); math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("prescription %d dose: %v is too far outside the training range to scale", k, d)
		}
	}
	return nil
}

// MaxPrescriptions follows training: the seed network has a fixed block of rows; the
// pooled network takes what the trainer's max_prescriptions let through (0: no limit).
func (t *trained) MaxPrescriptions() int {
	if t.m.Config().Architecture == model.ArchSeed {
		return t.layout.BlockRows
	}
	n, err := strconv.Atoi(t.m.Hyperparameters()["max_prescriptions"])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// EmbedDrug uses pipeline's built-in text embedder, the one the trainer applies to raw
// tables with drug names; for a model trained on precomputed embeddings (P0..P127) names
// give vectors it never saw, so such clients should send embeddings.
func (t *trained) EmbedDrug(name string) ([]float32, error) {
	return pipeline.EmbedText(name, t.layout.EmbeddingDim), nil
}

// LoadDir returns a Loader for the model saved in dir (SageMaker extracts model.tar.gz
// into /opt/ml/model), with the training table's header when the trainer stored it.
func LoadDir(dir string) Loader {
	return func(ctx context.Context) (Model, error) {
		m, err := model.Load(dir)
		if err != nil {
			return nil, err
		}
		header, err := inputheader.Read(dir)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, err := DirVersion(dir)
		if err != nil {
			return nil, err
		}
		return &trained{m: m, layout: m.Config().Layout, version: v, header: header}, nil
	}
}

// DirVersion hashes the model's own files in dir (names and contents, in name order)
// into "sha256:" and the first 16 hex digits, so two endpoints answer with the same
// version exactly when they serve the same model. Other files in the folder do not
// count: the trainer's training.json, or model.tar.gz itself where SageMaker's local mode
// extracts it beside the tarball.
func DirVersion(dir string) (string, error) {
	files := append(model.SavedFiles(), inputheader.File)
	sort.Strings(files)
	h := sha256.New()
	for _, name := range files {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) && name == inputheader.File {
			continue // optional
		}
		if err != nil {
			return "", fmt.Errorf("model version: %w", err)
		}
		fmt.Fprintf(h, "%s\x00", name)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("model version: %s: %w", name, err)
		}
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16], nil
}
