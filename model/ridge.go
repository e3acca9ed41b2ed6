package model

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/blueblood/blueblood/pipeline"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
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
	trainMean []float32 // original units
	Penalty   float64   // the chosen penalty
	beta      [][]float64
	intercept []float64
}

// ridgeFeatures returns sample s's features; row is scratch of Layout.RxFeatures() values.
func ridgeFeatures(sc *pipeline.Scaler, l pipeline.Layout, s *pipeline.Sample, row []float32) []float64 {
	a, dim := len(l.Analytes), l.EmbeddingDim
	out := make([]float64, 2*a+2*dim)
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
	return out
}

// FitRidge fits the ridge baseline on train with the scaler sc (fitted on train). Inner
// folds (up to 5, by subject, from seed) choose the penalty from ridgePenalties.
func FitRidge(train []pipeline.Sample, sc *pipeline.Scaler, l pipeline.Layout, seed int64) (*Ridge, error) {
	if len(train) == 0 {
		return nil, errors.New("ridge: no training samples")
	}
	if err := sc.Check(l); err != nil {
		return nil, fmt.Errorf("ridge: %w", err)
	}
	feats := ridgeMatrix(train, sc, l)
	best, bestSE := ridgePenalties[len(ridgePenalties)/2], math.Inf(1)
	k := min(5, pipeline.CountSubjects(train))
	if k >= 2 {
		which, err := pipeline.SubjectFolds(train, k, seed)
		if err != nil {
			return nil, fmt.Errorf("ridge: %w", err)
		}
		se := make([]float64, len(ridgePenalties))
		for f := 0; f < k; f++ {
			var tr, te []int
			for i := range train {
				if which[train[i].Subject] == f {
					te = append(te, i)
				} else {
					tr = append(tr, i)
				}
			}
			fits, err := fitRidgeRows(train, feats, sc, l, tr, ridgePenalties)
			if err != nil {
				return nil, fmt.Errorf("ridge: %w", err)
			}
			for p, r := range fits {
				for _, i := range te {
					se[p] += r.squaredError(&train[i], feats[i])
				}
			}
		}
		for p, v := range se {
			if v < bestSE {
				best, bestSE = ridgePenalties[p], v
			}
		}
	}
	all := make([]int, len(train))
	for i := range all {
		all[i] = i
	}
	fits, err := fitRidgeRows(train, feats, sc, l, all, []float64{best})
	if err != nil {
		return nil, fmt.Errorf("ridge: %w", err)
	}
	return fits[0], nil
}

func ridgeMatrix(samples []pipeline.Sample, sc *pipeline.Scaler, l pipeline.Layout) [][]float64 {
	row := make([]float32, l.RxFeatures())
	out := make([][]float64, len(samples))
	for i := range samples {
		out[i] = ridgeFeatures(sc, l, &samples[i], row)
	}
	return out
}

// fitRidgeRows fits every analyte on the samples rows, once per penalty. Columns and the
// target are centred on those rows, so the intercept is not penalised.
func fitRidgeRows(samples []pipeline.Sample, feats [][]float64, sc *pipeline.Scaler, l pipeline.Layout, rows []int, pens []float64) ([]*Ridge, error) {
	a := len(l.Analytes)
	sub := make([]pipeline.Sample, 0, len(rows))
	for _, i := range rows {
		sub = append(sub, samples[i])
	}
	mean := TrainMean(sub, a)
	out := make([]*Ridge, len(pens))
	for k, pen := range pens {
		out[k] = &Ridge{sc: sc, layout: l, trainMean: mean, Penalty: pen,
			beta: make([][]float64, a), intercept: make([]float64, a)}
	}
	p := len(feats[0])
	// analytes are independent: each worker writes only its own analyte's coefficients
	err := parallelFor(a, func(j int) error {
		var xs [][]float64
		var ys []float64
		for _, i := range rows {
			s := &samples[i]
			if s.PreObserved[j] && s.PostObserved[j] {
				xs = append(xs, feats[i])
				ys = append(ys, float64(sc.ScaleAnalyte(j, s.Post[j])-sc.ScaleAnalyte(j, s.Pre[j])))
			}
		}
		if len(ys) == 0 {
			return nil // no change seen: predict none
		}
		mx := make([]float64, p)
		var my float64
		for i, x := range xs {
			for c, v := range x {
				mx[c] += v
			}
			my += ys[i]
		}
		n := float64(len(ys))
		for c := range mx {
			mx[c] /= n
		}
		my /= n
		for k, b := range solveRidge(xs, ys, mx, my, pens) {
			out[k].beta[j] = b
			out[k].intercept[j] = my
			for c, v := range mx {
				out[k].intercept[j] -= v * b[c]
			}
		}
		return nil
	})
	return out, err
}

// solveRidge returns, for each penalty, argmin |y - my - (X - mx) b|² + pen |b|², in the
// smaller of the primal (p x p) and dual (n x n) forms; the Gram matrix is formed once.
func solveRidge(xs [][]float64, ys, mx []float64, my float64, pens []float64) [][]float64 {
	n, p := len(xs), len(mx)
	x := mat.NewDense(n, p, nil)
	y := mat.NewVecDense(n, nil)
	for i, row := range xs {
		for c, v := range row {
			x.Set(i, c, v-mx[c])
		}
		y.SetVec(i, ys[i]-my)
	}
	dual := n < p
	var g mat.SymDense
	rhs := y
	if dual {
		g.SymOuterK(1, x) // b = Xᵀ (X Xᵀ + pen I)⁻¹ y
	} else {
		g.SymOuterK(1, x.T()) // b = (Xᵀ X + pen I)⁻¹ Xᵀ y
		rhs = mat.NewVecDense(p, nil)
		rhs.MulVec(x.T(), y)
	}
	m := g.SymmetricDim()
	out := make([][]float64, len(pens))
	gr := g.RawSymmetric()
	for k, pen := range pens {
		// LAPACK's Cholesky directly: mat.Cholesky also estimates the condition number,
		// which cost as much as the factorisation here
		a := blas64.Symmetric{N: m, Stride: m, Uplo: blas.Upper, Data: make([]float64, m*m)}
		for i := 0; i < m; i++ {
			copy(a.Data[i*m+i:i*m+m], gr.Data[i*gr.Stride+i:i*gr.Stride+m])
			a.Data[i*m+i] += pen
		}
		sol := blas64.General{Rows: m, Cols: 1, Stride: 1, Data: slices.Clone(rhs.RawVector().Data)}
		b := mat.NewVecDense(p, nil)
		// a failed factorisation leaves b zero: no change predicted
		if t, ok := lapack64.Potrf(a); ok {
			lapack64.Potrs(t, sol)
			if dual {
				b.MulVec(x.T(), mat.NewVecDense(m, sol.Data))
			} else {
				copy(b.RawVector().Data, sol.Data)
			}
		}
		out[k] = b.RawVector().Data
	}
	return out
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
		p := r.predictScaled(&samples[i], ridgeFeatures(r.sc, r.layout, &samples[i], row))
		out[i] = make([]float32, len(p))
		for j, v := range p {
			out[i][j] = r.sc.UnscaleAnalyte(j, float32(v))
		}
	}
	return out
}
