package model

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/blueblood/blueblood/pipeline"
	"gorgonia.org/tensor"
)

// Model is a network, its weights and the scaler it was trained with. Predict is safe for
// concurrent use; Train must not run concurrently with anything else on the same Model.
type Model struct {
	cfg     Config
	sc      *pipeline.Scaler
	specs   []paramSpec
	params  []float32 // flat; every float32 graph's parameter tensors are views of it
	hparams map[string]string
	drugIdx map[string]int // cfg.Drugs' indexes

	mu   sync.Mutex
	pool map[graphKey][]*netGraph // idle evaluation graphs
}

// New builds a model with freshly initialised weights. The scaler must be the one fitted
// on the training split; the seed makes initialisation reproducible.
func New(cfg Config, sc *pipeline.Scaler, seed int64) (*Model, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errors.New("model: scaler is nil: fit one on the training split first")
	}
	if err := sc.Check(cfg.Layout); err != nil {
		return nil, fmt.Errorf("model: scaler does not fit the layout: %w", err)
	}
	specs := paramSpecs(cfg)
	m := &Model{cfg: cfg, sc: sc, specs: specs, params: initParams(cfg, specs, seed),
		hparams: map[string]string{}, pool: map[graphKey][]*netGraph{}, drugIdx: map[string]int{}}
	for i, d := range cfg.Drugs {
		m.drugIdx[d] = i
	}
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Scaler returns the scaler the model was built with.
func (m *Model) Scaler() *pipeline.Scaler { return m.sc }

// NumParams is the number of trainable values.
func (m *Model) NumParams() int { return len(m.params) }

// SetHyperparameters records the run's hyperparameters (as the trainer received them) so
// Save writes them beside the weights. Train adds its own options to the same map.
func (m *Model) SetHyperparameters(h map[string]string) {
	for k, v := range h {
		m.hparams[k] = v
	}
}

// Hyperparameters returns a copy of the recorded hyperparameters.
func (m *Model) Hyperparameters() map[string]string {
	out := make(map[string]string, len(m.hparams))
	for k, v := range m.hparams {
		out[k] = v
	}
	return out
}

func finite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// scaleSample converts a sample to network inputs, rejecting shapes that do not match the
// layout and NaN/Inf values. withTarget also requires and scales the post values.
func (m *Model) scaleSample(idx int, s *pipeline.Sample, withTarget bool) (*scaled, error) {
	out := &scaled{}
	if err := m.scaleInto(out, idx, s, withTarget); err != nil {
		return nil, err
	}
	return out, nil
}

// scaleInto is scaleSample into out, reusing out's buffer: training scales each batch as
// it runs, so a million training samples never exist scaled all at once. out keeps
// references to s's embedding rows.
func (m *Model) scaleInto(out *scaled, idx int, s *pipeline.Sample, withTarget bool) error {
	l := m.cfg.Layout
	a := len(l.Analytes)
	name := func() string { return fmt.Sprintf("sample %d (subject %q, start %q)", idx, s.Subject, s.Start) }
	if len(s.Pre) != a || len(s.PreObserved) != a {
		return fmt.Errorf("model: %s: %d pre values and %d pre flags, expected %d (the layout's analytes)", name(), len(s.Pre), len(s.PreObserved), a)
	}
	if withTarget && (len(s.Post) != a || len(s.PostObserved) != a) {
		return fmt.Errorf("model: %s: %d post values and %d post flags, expected %d (the layout's analytes)", name(), len(s.Post), len(s.PostObserved), a)
	}
	n := s.NumRx()
	if len(s.Embeddings) != n {
		return fmt.Errorf("model: %s: %d embedding rows for %d prescription rows", name(), len(s.Embeddings), n)
	}
	for i, e := range s.Embeddings {
		if len(e) != l.EmbeddingDim {
			return fmt.Errorf("model: %s: prescription row %d has %d embedding values, expected %d (embedding_dim)", name(), i, len(e), l.EmbeddingDim)
		}
	}
	if len(s.Units) != n {
		return fmt.Errorf("model: %s: %d units for %d prescription rows", name(), len(s.Units), n)
	}
	if m.cfg.Architecture == ArchSeed && n > l.BlockRows {
		return fmt.Errorf("model: %s has %d prescription rows; the seed architecture takes at most %d (apply the overflow policy first)", name(), n, l.BlockRows)
	}
	// one allocation for the four per-analyte vectors and the rows' dose/unit features
	buf := out.buf[:0]
	if need := 4*a + 2*n; cap(buf) < need {
		buf = make([]float32, need)
	} else {
		buf = buf[:need]
		clear(buf)
	}
	out.buf = buf
	out.pre, out.preObs = buf[0:a:a], buf[a:2*a:2*a]
	out.post, out.postMask = buf[2*a:3*a:3*a], buf[3*a:4*a:4*a]
	out.du, out.emb, out.n = buf[4*a:], s.Embeddings, n
	out.drugs = m.drugIDs(s)
	for j := 0; j < a; j++ {
		if !s.PreObserved[j] {
			continue
		}
		v := m.sc.ScaleAnalyte(j, s.Pre[j])
		if !finite32(s.Pre[j]) || !finite32(v) {
			return fmt.Errorf("model: %s: pre %s is %v, expected a finite number", name(), l.Analytes[j], s.Pre[j])
		}
		out.pre[j], out.preObs[j] = v, 1
	}
	if withTarget {
		for j := 0; j < a; j++ {
			if !s.PostObserved[j] {
				continue
			}
			v := m.sc.ScaleAnalyte(j, s.Post[j])
			if !finite32(s.Post[j]) || !finite32(v) {
				return fmt.Errorf("model: %s: post %s is %v, expected a finite number", name(), l.Analytes[j], s.Post[j])
			}
			out.post[j], out.postMask[j] = v, 1
		}
	}
	dim := l.EmbeddingDim
	for i := 0; i < n; i++ {
		for k, v := range s.Embeddings[i] {
			if !finite32(v) {
				return fmt.Errorf("model: %s: prescription row %d feature %d is %v after scaling, expected a finite number", name(), i, k, v)
			}
		}
		d, u := m.sc.RxDoseUnit(s, i)
		for k, v := range [2]float32{d, u} {
			if !finite32(v) {
				return fmt.Errorf("model: %s: prescription row %d feature %d is %v after scaling, expected a finite number", name(), i, dim+k, v)
			}
		}
		out.du[2*i], out.du[2*i+1] = d, u
	}
	return nil
}

func (m *Model) scaleAll(samples []pipeline.Sample, withTarget bool) ([]*scaled, error) {
	return m.scaleFrom(samples, 0, withTarget)
}

// scaleFrom is scaleAll for samples that start at index base of a larger set (the index
// errors name).
func (m *Model) scaleFrom(samples []pipeline.Sample, base int, withTarget bool) ([]*scaled, error) {
	out := make([]*scaled, len(samples))
	for i := range samples {
		s, err := m.scaleSample(base+i, &samples[i], withTarget)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// scaleChunk is how many samples evaluation and prediction scale at a time, so that
// scoring a million samples holds a chunk scaled, not all of them. A multiple of the
// largest evaluation batch (evalBatch), so chunks are split into the same batches as the
// whole set would be.
const scaleChunk = 64 * 128

// DefaultMaxRows bounds a group's prescription rows when max_prescriptions sets no limit:
// the trainer applies it as it applies max_prescriptions (the overflow policy; the groups
// counted in truncated_groups) and serving refuses longer cases. Every batch is padded to
// the power of two at or above its longest group, so this also bounds a batch's graph.
// The original data's largest group has 42 rows.
const DefaultMaxRows = 256

// rowBucket is the padded prescription-row count of a batch whose longest group has n
// rows: powers of two bound the number of compiled graphs. The seed always uses its block.
func (m *Model) rowBucket(n int) int {
	if m.cfg.Architecture == ArchSeed {
		return m.cfg.Layout.BlockRows
	}
	b := 1
	for b < n {
		b *= 2
	}
	return b
}

func (m *Model) batchRows(batch []*scaled) int {
	n := 0
	for _, s := range batch {
		n = max(n, s.n)
	}
	return m.rowBucket(n)
}

// evalBatch picks an evaluation graph batch size for n remaining samples.
func evalBatch(n int) int {
	switch {
	case n <= 1:
		return 1
	case n <= 8:
		return 8
	default:
		return 64
	}
}

func (m *Model) getEval(key graphKey) (*netGraph, error) {
	m.mu.Lock()
	if free := m.pool[key]; len(free) > 0 {
		ng := free[len(free)-1]
		m.pool[key] = free[:len(free)-1]
		m.mu.Unlock()
		return ng, nil
	}
	m.mu.Unlock()
	return buildGraph(m.cfg, m.specs, m.params, key, tensor.Float32)
}

// maxIdleEval bounds the idle evaluation graphs a model keeps per key: more than one per
// core is never used at once. Keys (batch size and row bucket) are few, as the row
// buckets are bounded by DefaultMaxRows or max_prescriptions.
func maxIdleEval() int { return runtime.GOMAXPROCS(0) }

func (m *Model) putEval(ng *netGraph) {
	m.mu.Lock()
	keep := len(m.pool[ng.key]) < maxIdleEval()
	if keep {
		m.pool[ng.key] = append(m.pool[ng.key], ng)
	}
	m.mu.Unlock()
	if !keep {
		ng.close()
	}
}

// predictScaled writes scaled predictions [len(ss), A] into out. The evaluation batches
// depend on len(ss) only and run on the machine's cores side by side.
func (m *Model) predictScaled(ss []*scaled, out []float32) error {
	a := len(m.cfg.Layout.Analytes)
	type span struct{ start, end, b int }
	var spans []span
	for start := 0; start < len(ss); {
		b := evalBatch(len(ss) - start)
		end := min(start+b, len(ss))
		spans = append(spans, span{start, end, b})
		start = end
	}
	return parallelFor(len(spans), func(i int) error {
		sp := spans[i]
		batch := ss[sp.start:sp.end]
		ng, err := m.getEval(graphKey{batch: sp.b, rows: m.batchRows(batch)})
		if err != nil {
			return err
		}
		ng.fill(m.cfg, batch, nil)
		if err := ng.run(); err != nil {
			ng.close()
			return err
		}
		ng.copyPred(out[sp.start*a : sp.end*a])
		m.putEval(ng)
		return nil
	})
}

// predictChunked writes the scaled predictions of samples into out ([len(samples), A]),
// scaling scaleChunk samples at a time; each chunk's scaled samples, with the chunk's
// first index, go to each when it is non-nil.
func (m *Model) predictChunked(samples []pipeline.Sample, withTarget bool, out []float32, each func(base int, ss []*scaled)) error {
	a := len(m.cfg.Layout.Analytes)
	for lo := 0; lo < len(samples); lo += scaleChunk {
		hi := min(lo+scaleChunk, len(samples))
		ss, err := m.scaleFrom(samples[lo:hi], lo, withTarget)
		if err != nil {
			return err
		}
		if err := m.predictScaled(ss, out[lo*a:hi*a]); err != nil {
			return err
		}
		if each != nil {
			each(lo, ss)
		}
	}
	return nil
}

// Predict returns predictions in original units, one slice of len(Layout.Analytes) per
// sample. Post values in the samples are ignored. Safe for concurrent use.
func (m *Model) Predict(samples []pipeline.Sample) ([][]float32, error) {
	a := len(m.cfg.Layout.Analytes)
	flat := make([]float32, len(samples)*a)
	if err := m.predictChunked(samples, false, flat, nil); err != nil {
		return nil, err
	}
	out := make([][]float32, len(samples))
	for i := range out {
		row := flat[i*a : (i+1)*a : (i+1)*a]
		for j := range row {
			row[j] = m.sc.UnscaleAnalyte(j, row[j])
		}
		out[i] = row
	}
	return out, nil
}
