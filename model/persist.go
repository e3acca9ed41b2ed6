package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// Saved-model format (a directory):
//
//	model.json   {"format":"blueblood-model","format_version":2,"config":{...},"scaler":{...},
//	              "hyperparameters":{...},"params":[{"name","rows","cols","offset"}...],
//	              "num_params":N,"weights_file":"weights.bin","weights_sha256":"..."}
//	weights.bin  N little-endian float32 values, the tensors of "params" back to back,
//	             each row-major
//
// weights.bin is written first and model.json last, each through a temporary file in
// the same directory and a rename, so a reader never sees a half-written model.
const (
	formatName = "blueblood-model"
	// 2: pooled-residual gained the dose x embedding encoder term (rx_dose_w).
	formatVersion    = 2
	modelFile        = "model.json"
	weightsFile      = "weights.bin"
	checkpointFormat = "blueblood-checkpoint"
	checkpointVer    = 2
)

// SavedFiles are the files Save writes into a model folder, which alone define the
// model (a folder may hold other files beside them).
func SavedFiles() []string { return []string{modelFile, weightsFile} }

type savedModel struct {
	Format          string            `json:"format"`
	FormatVersion   int               `json:"format_version"`
	Config          Config            `json:"config"`
	Scaler          *pipeline.Scaler  `json:"scaler"`
	Hyperparameters map[string]string `json:"hyperparameters"`
	Params          []paramSpec       `json:"params"`
	NumParams       int               `json:"num_params"`
	WeightsFile     string            `json:"weights_file"`
	WeightsSHA256   string            `json:"weights_sha256"`
}

func encodeFloats(p []float32) []byte {
	buf := make([]byte, 4*len(p))
	for i, v := range p {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return buf
}

// Save writes the model into dir (created if needed).
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("model: save: %w", err)
	}
	w := encodeFloats(m.params)
	sum := sha256.Sum256(w)
	meta := savedModel{Format: formatName, FormatVersion: formatVersion, Config: m.cfg, Scaler: m.sc,
		Hyperparameters: m.Hyperparameters(), Params: m.specs, NumParams: len(m.params),
		WeightsFile: weightsFile, WeightsSHA256: hex.EncodeToString(sum[:])}
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("model: save: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, weightsFile), w); err != nil {
		return fmt.Errorf("model: save weights: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, modelFile), append(js, '\n')); err != nil {
		return fmt.Errorf("model: save: %w", err)
	}
	return nil
}

// Load reads a model written by Save.
func Load(dir string) (*Model, error) {
	path := filepath.Join(dir, modelFile)
	js, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: load: %w", err)
	}
	var meta savedModel
	if err := json.Unmarshal(js, &meta); err != nil {
		return nil, fmt.Errorf("model: load %s: %w", path, err)
	}
	if meta.Format != formatName {
		return nil, fmt.Errorf("model: load %s: format %q, expected %q", path, meta.Format, formatName)
	}
	if meta.FormatVersion != formatVersion {
		return nil, fmt.Errorf("model: load %s: format_version %d, this build reads %d", path, meta.FormatVersion, formatVersion)
	}
	if meta.Scaler == nil {
		return nil, fmt.Errorf("model: load %s: no scaler", path)
	}
	m, err := New(meta.Config, meta.Scaler, 0)
	if err != nil {
		return nil, fmt.Errorf("model: load %s: %w", path, err)
	}
	if err := sameSpecs(m.specs, meta.Params); err != nil {
		return nil, fmt.Errorf("model: load %s: %w", path, err)
	}
	wpath := filepath.Join(dir, weightsFile)
	w, err := os.ReadFile(wpath)
	if err != nil {
		return nil, fmt.Errorf("model: load weights: %w", err)
	}
	if len(w) != 4*len(m.params) || meta.NumParams != len(m.params) {
		return nil, fmt.Errorf("model: load %s: %d bytes, expected %d (%d float32 parameters)", wpath, len(w), 4*len(m.params), len(m.params))
	}
	sum := sha256.Sum256(w)
	if hex.EncodeToString(sum[:]) != meta.WeightsSHA256 {
		return nil, fmt.Errorf("model: load %s: checksum does not match model.json", wpath)
	}
	for i := range m.params {
		m.params[i] = math.Float32frombits(binary.LittleEndian.Uint32(w[4*i:]))
		if !finite32(m.params[i]) {
			return nil, fmt.Errorf("model: load %s: parameter %d is %v", wpath, i, m.params[i])
		}
	}
	m.hparams = meta.Hyperparameters
	if m.hparams == nil {
		m.hparams = map[string]string{}
	}
	return m, nil
}

func sameSpecs(want, got []paramSpec) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d parameter tensors, the config implies %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Name != g.Name || w.Rows != g.Rows || w.Cols != g.Cols || w.Off != g.Off {
			return fmt.Errorf("parameter %d is %s [%d, %d] at %d, the config implies %s [%d, %d] at %d", i, g.Name, g.Rows, g.Cols, g.Off, w.Name, w.Rows, w.Cols, w.Off)
		}
	}
	return nil
}

// Checkpoint is a resumable snapshot of a training run: weights, Adam state, the position
// in the epoch (order and batch), the RNG state, the best weights so far and the history.
// Resuming from it gives results bit-identical to an uninterrupted run.
type Checkpoint struct {
	Format        string
	FormatVersion int
	Config        Config
	ScalerJSON    []byte // the model's scaler; a resume must use the same one
	BatchSize     int    // the epoch order and batch position depend on it
	Seed          int64
	// Hyperparameters are the run's recorded hyperparameters (SetHyperparameters plus
	// Train's options), so a resume can refuse settings that differ from the run it continues.
	Hyperparameters map[string]string
	// Data fingerprints the training data (set by the caller; empty in checkpoints of
	// older trainers), so a resume on other data is refused.
	Data string

	Params    []float32
	AdamM     []float32
	AdamV     []float32
	AdamStep  int64
	RNG       []byte // PCG state
	Epoch     int    // completed epochs
	Batch     int    // next batch of the current epoch; 0 at an epoch boundary
	Perm      []int  // the current epoch's sample order once drawn (always when Batch > 0)
	LossSum   float64
	LossCount int64

	Best      []float32 // nil until the untrained weights or an epoch had a finite validation loss
	BestLoss  float64
	BestEpoch int
	SinceBest int
	History   History
}

func (m *Model) checkpoint(st *trainState, opt TrainOptions) *Checkpoint {
	rs, _ := st.rng.MarshalBinary() // PCG's MarshalBinary cannot fail
	sj, _ := json.Marshal(m.sc)
	c := &Checkpoint{Format: checkpointFormat, FormatVersion: checkpointVer, Config: m.cfg, ScalerJSON: sj,
		BatchSize: opt.BatchSize, Seed: opt.Seed, Hyperparameters: m.Hyperparameters(),
		Params: clone32(m.params), AdamM: clone32(st.opt.m), AdamV: clone32(st.opt.v), AdamStep: st.opt.step,
		RNG: rs, Epoch: st.epoch, Batch: st.batch, LossSum: st.lossSum, LossCount: st.lossCount,
		Best: clone32(st.best), BestLoss: st.bestLoss, BestEpoch: st.bestEpoch, SinceBest: st.sinceBest}
	if st.perm != nil {
		c.Perm = append([]int(nil), st.perm...)
	}
	c.History = History{Initial: st.hist.Initial, Epochs: append([]EpochStats(nil), st.hist.Epochs...), BestEpoch: st.hist.BestEpoch}
	return c
}

func clone32(p []float32) []float32 {
	if p == nil {
		return nil
	}
	return append([]float32(nil), p...)
}

// restore loads a checkpoint into the model and the training state after checking that
// it belongs to this model and these options.
func (m *Model) restore(c *Checkpoint, opt TrainOptions, st *trainState) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("model: cannot resume: "+format, args...)
	}
	if c.Format != checkpointFormat || c.FormatVersion != checkpointVer {
		return bad("checkpoint format %q version %d, expected %q version %d", c.Format, c.FormatVersion, checkpointFormat, checkpointVer)
	}
	cj, _ := json.Marshal(c.Config)
	mj, _ := json.Marshal(m.cfg)
	if !bytes.Equal(cj, mj) {
		return bad("the checkpoint's config %s differs from the model's %s", cj, mj)
	}
	sj, _ := json.Marshal(m.sc)
	if !bytes.Equal(sj, c.ScalerJSON) {
		return bad("the checkpoint was made with a different scaler")
	}
	if c.BatchSize != opt.BatchSize || c.Seed != opt.Seed {
		return bad("checkpoint has batch_size=%d seed=%d, the run asks for batch_size=%d seed=%d", c.BatchSize, c.Seed, opt.BatchSize, opt.Seed)
	}
	n := len(m.params)
	if len(c.Params) != n || len(c.AdamM) != n || len(c.AdamV) != n || (c.Best != nil && len(c.Best) != n) {
		return bad("checkpoint holds %d parameters, the model has %d", len(c.Params), n)
	}
	if c.Epoch < 0 || c.Batch < 0 || c.Epoch > opt.Epochs {
		return bad("checkpoint is at epoch %d batch %d, the run has %d epochs", c.Epoch, c.Batch, opt.Epochs)
	}
	if c.Batch > 0 && len(c.Perm) == 0 {
		return bad("checkpoint is mid-epoch (batch %d) but holds no sample order", c.Batch)
	}
	pcg := &rand.PCG{}
	if err := pcg.UnmarshalBinary(c.RNG); err != nil {
		return bad("rng state: %v", err)
	}
	copy(m.params, c.Params)
	copy(st.opt.m, c.AdamM)
	copy(st.opt.v, c.AdamV)
	st.opt.step = c.AdamStep
	st.rng = pcg
	st.epoch, st.batch = c.Epoch, c.Batch
	st.perm = nil
	if len(c.Perm) > 0 {
		st.perm = append([]int(nil), c.Perm...)
	}
	st.lossSum, st.lossCount = c.LossSum, c.LossCount
	st.best = clone32(c.Best)
	st.bestLoss, st.bestEpoch, st.sinceBest = c.BestLoss, c.BestEpoch, c.SinceBest
	st.hist = History{Initial: c.History.Initial, Epochs: append([]EpochStats(nil), c.History.Epochs...), BestEpoch: c.History.BestEpoch}
	return nil
}

// validateFor checks a checkpoint against the number of training samples (a different
// training set would make the saved order meaningless).
func (c *Checkpoint) validateFor(nTrain int) error {
	if len(c.Perm) > 0 && len(c.Perm) != nTrain {
		return fmt.Errorf("model: cannot resume: the checkpoint's epoch order covers %d samples, the training split has %d", len(c.Perm), nTrain)
	}
	seen := make([]bool, len(c.Perm))
	for _, i := range c.Perm {
		if i < 0 || i >= len(seen) || seen[i] {
			return errors.New("model: cannot resume: the checkpoint's epoch order is not a permutation of the training samples")
		}
		seen[i] = true
	}
	return nil
}

// Save writes the checkpoint atomically (gob encoding behind a checksum line).
func (c *Checkpoint) Save(path string) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("model: encode checkpoint: %w", err)
	}
	if err := atomicfile.WriteFile(path, sealCheckpoint(buf.Bytes())); err != nil {
		return fmt.Errorf("model: save checkpoint: %w", err)
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by Checkpoint.Save, refusing one whose
// checksum does not match.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: load checkpoint: %w", err)
	}
	if data, err = openCheckpoint(data); err != nil {
		return nil, fmt.Errorf("model: load checkpoint %s: %w", path, err)
	}
	var c Checkpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return nil, fmt.Errorf("model: load checkpoint %s: %w", path, err)
	}
	if c.Format != checkpointFormat {
		return nil, fmt.Errorf("model: load checkpoint %s: format %q, expected %q", path, c.Format, checkpointFormat)
	}
	return &c, nil
}
