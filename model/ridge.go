package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/blueblood/blueblood/pipeline"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// BaselineRidge names the ridge baseline in Metrics.Baselines and cross-validation results.
const BaselineRidge = "ridge"

// ridgePenalties is the grid the ridge baseline's penalty is chosen from.
var ridgePenalties = []float64{0.3, 1, 3, 10, 30, 100, 300, 1000, 3000, 1e4, 3e4, 1e5}

// Ridge is the linear baseline: per analyte, a ridge regression of the scaled change
// post - pre on [scaled pre values (0 where missing), pre-observed flags, the sum of the
// sample's drug embeddings, the sum of its embeddings times their scaled doses], fitted on
// training samples where both values of the analyte were observed. It predicts pre + change
// where the pre value was observed and the training mean + change where not. The penalty
// is one for all analytes, chosen by the lowest squared error over inner folds grouped by
// subject.
type Ridge struct {
	sc        *pipeline.Scaler
	layout    pipeline.Layout
	drugs     *ridgeDrugs // learned drugs: their row counts are features after the rest
	trainMean []float32   // original units
	Penalty   float64     // the chosen penalty
	beta      [][]float64
	intercept []float64
}

// ridgeFeatures returns sample s's features; row is scratch of Layout.RxFeatures() values.
func ridgeFeatures(sc *pipeline.Scaler, l pipeline.Layout, drugs *ridgeDrugs, s *pipeline.Sample, row []float32) []float64 {
	out := make([]float64, ridgeWidth(l, drugs.len()))
	ridgeFeaturesInto(sc, l, drugs, s, row, out)
	return out
}

// ridgeWidth is the number of ridge features: pre values, their flags, the two embedding
// sums and one row count per learned drug.
func ridgeWidth(l pipeline.Layout, drugs int) int {
	return 2*len(l.Analytes) + 2*l.EmbeddingDim + drugs
}

// ridgeFeaturesInto writes sample s's features into out (zeroed here). The network's
// linear base computes the same features from a scaled sample (linearFeatures).
func ridgeFeaturesInto(sc *pipeline.Scaler, l pipeline.Layout, drugs *ridgeDrugs, s *pipeline.Sample, row []float32, out []float64) {
	a, dim := len(l.Analytes), l.EmbeddingDim
	clear(out)
	for j := 0; j < a; j++ {
		if s.PreObserved[j] {
			out[j] = float64(sc.ScaleAnalyte(j, s.Pre[j]))
			out[a+j] = 1
		}
	}
	for k := 0; k < s.NumRx(); k++ {
		sc.RxRow(s, k, row)
		dose := float64(row[dim])
		for e := 0; e < dim; e++ {
			out[2*a+e] += float64(row[e])
			out[2*a+dim+e] += float64(row[e]) * dose
		}
	}
	if drugs != nil {
		forLearnedDrugs(drugs.idx, s, func(_, k int) { out[2*a+2*dim+k] += drugs.scale[k] })
	}
}

// ridgeChunk is how many samples' features exist at a time: the fit streams the training
// set through sums (XᵀX, Xᵀy per analyte and fold) instead of holding an n×p matrix, which
// at 10^6 samples and p = 306 was 2.4 GB, plus a copy per analyte being fitted.
const ridgeChunk = 512

// FitRidge fits the ridge baseline on train with the scaler sc (fitted on train). Inner
// folds (up to 5, by subject, from seed) choose the penalty from ridgePenalties. Memory is
// O(analytes × folds × p²) whatever the number of samples.
func FitRidge(train []pipeline.Sample, sc *pipeline.Scaler, l pipeline.Layout, seed int64) (*Ridge, error) {
	return fitRidge(train, sc, l, nil, seed)
}

// ridgeDrugs are the drugs whose row counts are ridge features, each count divided by its
// standard deviation over the training samples: one penalty for all features shrinks
// every feature alike only when they vary alike, and a drug in 6% of groups varies far
// less than a standardised pre value.
type ridgeDrugs struct {
	idx   map[string]int
	scale []float64 // 1 / the count's standard deviation (1 where it does not vary)
}

func newRidgeDrugs(idx map[string]int, train []pipeline.Sample) *ridgeDrugs {
	if len(idx) == 0 {
		return nil
	}
	sum, sq := make([]float64, len(idx)), make([]float64, len(idx))
	counts := make([]float64, len(idx))
	for i := range train {
		clear(counts)
		forLearnedDrugs(idx, &train[i], func(_, k int) { counts[k]++ })
		for k, c := range counts {
			sum[k] += c
			sq[k] += c * c
		}
	}
	rd := &ridgeDrugs{idx: idx, scale: make([]float64, len(idx))}
	n := float64(max(len(train), 1))
	for k := range rd.scale {
		rd.scale[k] = 1
		if v := sq[k]/n - (sum[k]/n)*(sum[k]/n); v > 1e-12 {
			rd.scale[k] = 1 / math.Sqrt(v)
		}
	}
	return rd
}

func (d *ridgeDrugs) len() int {
	if d == nil {
		return 0
	}
	return len(d.idx)
}

// fitRidge is FitRidge with the row counts of drugs as extra features.
func fitRidge(train []pipeline.Sample, sc *pipeline.Scaler, l pipeline.Layout, drugs *ridgeDrugs, seed int64) (*Ridge, error) {
	if len(train) == 0 {
		return nil, errors.New("ridge: no training samples")
	}
	if err := sc.Check(l); err != nil {
		return nil, fmt.Errorf("ridge: %w", err)
	}
	a := len(l.Analytes)
	k := min(5, pipeline.CountSubjects(train))
	fold := make([]int, len(train)) // every sample in fold 0 when there are no inner folds
	if k >= 2 {
		which, err := pipeline.SubjectFolds(train, k, seed)
		if err != nil {
			return nil, fmt.Errorf("ridge: %w", err)
		}
		for i := range train {
			fold[i] = which[train[i].Subject]
		}
	} else {
		k = 1
	}
	st := newRidgeSums(train, fold, k, sc, l, drugs)
	if err := st.accumulate(); err != nil {
		return nil, fmt.Errorf("ridge: %w", err)
	}
	best := ridgePenalties[len(ridgePenalties)/2]
	if k >= 2 {
		se, err := st.foldErrors()
		if err != nil {
			return nil, fmt.Errorf("ridge: %w", err)
		}
		bestSE := math.Inf(1)
		for p, v := range se {
			if v < bestSE {
				best, bestSE = ridgePenalties[p], v
			}
		}
	}
	r := &Ridge{sc: sc, layout: l, drugs: drugs, trainMean: TrainMean(train, a), Penalty: best,
		beta: make([][]float64, a), intercept: make([]float64, a)}
	for j := 0; j < a; j++ {
		total := newXYSums(st.p)
		for f := 0; f < k; f++ {
			total.add(st.sums[j][f])
		}
		r.beta[j], r.intercept[j] = total.solve(best, nil)
	}
	return r, nil
}

// ridgeSums holds, per analyte and inner fold, the sums a ridge fit needs.
type ridgeSums struct {
	train []pipeline.Sample
	fold  []int
	k, p  int
	sc    *pipeline.Scaler
	l     pipeline.Layout
	drugs *ridgeDrugs
	sums  [][]*xySums // [analyte][fold]
}

// xySums are the raw sums of the rows (x, y) where an analyte's change was observed.
type xySums struct {
	n  float64
	xx []float64 // Σ x xᵀ, p×p, upper triangle
	x  []float64 // Σ x
	xy []float64 // Σ x y
	y  float64   // Σ y
}

func newXYSums(p int) *xySums {
	return &xySums{xx: make([]float64, p*p), x: make([]float64, p), xy: make([]float64, p)}
}

// add adds o to s.
func (s *xySums) add(o *xySums) {
	s.n += o.n
	s.y += o.y
	for i, v := range o.xx {
		s.xx[i] += v
	}
	for i, v := range o.x {
		s.x[i] += v
	}
	for i, v := range o.xy {
		s.xy[i] += v
	}
}

func newRidgeSums(train []pipeline.Sample, fold []int, k int, sc *pipeline.Scaler, l pipeline.Layout, drugs *ridgeDrugs) *ridgeSums {
	a := len(l.Analytes)
	st := &ridgeSums{train: train, fold: fold, k: k, p: ridgeWidth(l, drugs.len()), sc: sc, l: l, drugs: drugs, sums: make([][]*xySums, a)}
	for j := range st.sums {
		st.sums[j] = make([]*xySums, k)
		for f := range st.sums[j] {
			st.sums[j][f] = newXYSums(st.p)
		}
	}
	return st
}

// chunks calls fn with the features of each chunk of ridgeChunk training samples
// (row i of feats is sample lo+i).
func (st *ridgeSums) chunks(fn func(lo, hi int, feats []float64) error) error {
	row := make([]float32, st.l.RxFeatures())
	feats := make([]float64, ridgeChunk*st.p)
	for lo := 0; lo < len(st.train); lo += ridgeChunk {
		hi := min(lo+ridgeChunk, len(st.train))
		for i := lo; i < hi; i++ {
			ridgeFeaturesInto(st.sc, st.l, st.drugs, &st.train[i], row, feats[(i-lo)*st.p:(i-lo+1)*st.p])
		}
		if err := fn(lo, hi, feats); err != nil {
			return err
		}
	}
	return nil
}

// change is the scaled change of analyte j in sample s.
func (st *ridgeSums) change(j int, s *pipeline.Sample) float64 {
	return float64(st.sc.ScaleAnalyte(j, s.Post[j]) - st.sc.ScaleAnalyte(j, s.Pre[j]))
}

// accumulate streams the training set into the sums. Analytes are independent: each
// worker writes only its own analyte's sums and gather buffer.
func (st *ridgeSums) accumulate() error {
	a, p := len(st.l.Analytes), st.p
	gather := make([][]float64, a)
	return st.chunks(func(lo, hi int, feats []float64) error {
		return parallelFor(a, func(j int) error {
			if gather[j] == nil {
				gather[j] = make([]float64, ridgeChunk*p)
			}
			buf := gather[j]
			for f := 0; f < st.k; f++ {
				sum, m := st.sums[j][f], 0
				for i := lo; i < hi; i++ {
					s := &st.train[i]
					if st.fold[i] != f || !s.PreObserved[j] || !s.PostObserved[j] {
						continue
					}
					x := feats[(i-lo)*p : (i-lo+1)*p]
					y := st.change(j, s)
					copy(buf[m*p:(m+1)*p], x)
					m++
					sum.n++
					sum.y += y
					for c, v := range x {
						sum.x[c] += v
						sum.xy[c] += v * y
					}
				}
				if m > 0 {
					blas64.Syrk(blas.Trans, 1, blas64.General{Rows: m, Cols: p, Stride: p, Data: buf[:m*p]},
						1, blas64.Symmetric{N: p, Stride: p, Uplo: blas.Upper, Data: sum.xx})
				}
			}
			return nil
		})
	})
}

// foldErrors returns, per penalty, the squared error over the inner folds of ridges fitted
// on the other folds, as Ridge.predictScaled predicts (the fold's training mean where the
// pre value is missing).
func (st *ridgeSums) foldErrors() ([]float64, error) {
	a, p, k := len(st.l.Analytes), st.p, st.k
	// per fold: the training mean of the other folds, the coefficients per penalty
	postSum, postN := make([][]float64, k), make([][]int, k)
	for f := range postSum {
		postSum[f], postN[f] = make([]float64, a), make([]int, a)
	}
	for i := range st.train {
		s := &st.train[i]
		for j := 0; j < a; j++ {
			if s.PostObserved[j] && finite32(s.Post[j]) {
				postSum[st.fold[i]][j] += float64(s.Post[j])
				postN[st.fold[i]][j]++
			}
		}
	}
	base := make([][]float64, k) // [fold][analyte]: scaled training mean
	beta := make([][][][]float64, k)
	icpt := make([][][]float64, k)
	for f := 0; f < k; f++ {
		base[f] = make([]float64, a)
		for j := 0; j < a; j++ {
			var sum float64
			n := 0
			for g := 0; g < k; g++ {
				if g != f {
					sum += postSum[g][j]
					n += postN[g][j]
				}
			}
			mean := float32(0)
			if n > 0 {
				mean = float32(sum / float64(n))
			}
			base[f][j] = float64(st.sc.ScaleAnalyte(j, mean))
		}
		beta[f], icpt[f] = make([][][]float64, a), make([][]float64, a)
	}
	if err := parallelFor(a*k, func(jf int) error {
		j, f := jf/k, jf%k
		sum := newXYSums(p)
		for g := 0; g < k; g++ {
			if g != f {
				sum.add(st.sums[j][g])
			}
		}
		beta[f][j], icpt[f][j] = sum.solveAll(ridgePenalties)
		return nil
	}); err != nil {
		return nil, err
	}
	np := len(ridgePenalties)
	seJ := make([][]float64, a)
	for j := range seJ {
		seJ[j] = make([]float64, np)
	}
	err := st.chunks(func(lo, hi int, feats []float64) error {
		return parallelFor(a, func(j int) error {
			for i := lo; i < hi; i++ {
				s := &st.train[i]
				if !s.PostObserved[j] {
					continue
				}
				f := st.fold[i]
				b0 := base[f][j]
				if s.PreObserved[j] {
					b0 = float64(st.sc.ScaleAnalyte(j, s.Pre[j]))
				}
				post := float64(st.sc.ScaleAnalyte(j, s.Post[j]))
				x := feats[(i-lo)*p : (i-lo+1)*p]
				for q := 0; q < np; q++ {
					pred := b0
					if b := beta[f][j][q]; b != nil {
						pred += icpt[f][j][q]
						for c, v := range x {
							pred += v * b[c]
						}
					}
					d := pred - post
					seJ[j][q] += d * d
				}
			}
			return nil
		})
	})
	se := make([]float64, np)
	for j := range seJ {
		for q, v := range seJ[j] {
			se[q] += v
		}
	}
	return se, err
}

// solveAll returns, per penalty, the coefficients and the intercept; nil coefficients
// (no change predicted) when no row was seen.
func (s *xySums) solveAll(pens []float64) ([][]float64, []float64) {
	betas, icpts := make([][]float64, len(pens)), make([]float64, len(pens))
	work := make([]float64, len(s.x)*len(s.x)) // one factorisation buffer for all penalties
	for q, pen := range pens {
		betas[q], icpts[q] = s.solve(pen, work)
	}
	return betas, icpts
}

// solve returns argmin |y - my - (X - mx) b|² + pen |b|² and the intercept my - mx·b,
// from the sums: the centred Gram matrix is XᵀX - n mx mxᵀ, so the intercept is not
// penalised. work (p×p, or nil) is scratch.
func (s *xySums) solve(pen float64, work []float64) ([]float64, float64) {
	if s.n < 0.5 {
		return nil, 0 // no change seen: predict none
	}
	p := len(s.x)
	mx := make([]float64, p)
	for c, v := range s.x {
		mx[c] = v / s.n
	}
	my := s.y / s.n
	// LAPACK's Cholesky directly: mat.Cholesky also estimates the condition number,
	// which cost as much as the factorisation here
	if len(work) < p*p {
		work = make([]float64, p*p)
	}
	g := blas64.Symmetric{N: p, Stride: p, Uplo: blas.Upper, Data: work[:p*p]}
	rhs := make([]float64, p)
	for r := 0; r < p; r++ {
		for c := r; c < p; c++ {
			g.Data[r*p+c] = s.xx[r*p+c] - s.n*mx[r]*mx[c]
		}
		g.Data[r*p+r] += pen
		rhs[r] = s.xy[r] - s.n*mx[r]*my
	}
	b := make([]float64, p)
	// a failed factorisation leaves b zero: no change predicted
	if t, ok := lapack64.Potrf(g); ok {
		sol := blas64.General{Rows: p, Cols: 1, Stride: 1, Data: rhs}
		lapack64.Potrs(t, sol)
		copy(b, sol.Data)
	}
	icpt := my
	for c, v := range mx {
		icpt -= v * b[c]
	}
	return b, icpt
}

// predictScaled returns the scaled prediction of every analyte for a sample with features x.
func (r *Ridge) predictScaled(s *pipeline.Sample, x []float64) []float64 {
	a := len(r.layout.Analytes)
	out := make([]float64, a)
	for j := 0; j < a; j++ {
		base := float64(r.sc.ScaleAnalyte(j, r.trainMean[j]))
		if s.PreObserved[j] {
			base = float64(r.sc.ScaleAnalyte(j, s.Pre[j]))
		}
		change := 0.0
		if b := r.beta[j]; b != nil {
			change = r.intercept[j]
			for c, v := range x {
				change += v * b[c]
			}
		}
		out[j] = base + change
	}
	return out
}

func (r *Ridge) squaredError(s *pipeline.Sample, x []float64) float64 {
	pred := r.predictScaled(s, x)
	var se float64
	for j, v := range pred {
		if s.PostObserved[j] {
			d := v - float64(r.sc.ScaleAnalyte(j, s.Post[j]))
			se += d * d
		}
	}
	return se
}

// Predict returns the ridge baseline's predictions in original units, one slice per sample.
func (r *Ridge) Predict(samples []pipeline.Sample) [][]float32 {
	row := make([]float32, r.layout.RxFeatures())
	out := make([][]float32, len(samples))
	for i := range samples {
		p := r.predictScaled(&samples[i], ridgeFeatures(r.sc, r.layout, r.drugs, &samples[i], row))
		out[i] = make([]float32, len(p))
		for j, v := range p {
			out[i][j] = r.sc.UnscaleAnalyte(j, float32(v))
		}
	}
	return out
}
