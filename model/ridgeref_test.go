package model

// The dense ridge fit this package used before the streamed one (an n×p matrix per
// analyte): the reference the streamed fit must agree with.

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// FitRidge fits the ridge baseline on train with the scaler sc (fitted on train). Inner
// folds (up to 5, by subject, from seed) choose the penalty from ridgePenalties.
func refFitRidge(train []pipeline.Sample, sc *pipeline.Scaler, l pipeline.Layout, seed int64) (*Ridge, error) {
	if len(train) == 0 {
		return nil, errors.New("ridge: no training samples")
	}
	if err := sc.Check(l); err != nil {
		return nil, fmt.Errorf("ridge: %w", err)
	}
	feats := refRidgeMatrix(train, sc, l)
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
			fits, err := refFitRidgeRows(train, feats, sc, l, tr, ridgePenalties)
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
	fits, err := refFitRidgeRows(train, feats, sc, l, all, []float64{best})
	if err != nil {
		return nil, fmt.Errorf("ridge: %w", err)
	}
	return fits[0], nil
}

func refRidgeMatrix(samples []pipeline.Sample, sc *pipeline.Scaler, l pipeline.Layout) [][]float64 {
	row := make([]float32, l.RxFeatures())
	out := make([][]float64, len(samples))
	for i := range samples {
		out[i] = ridgeFeatures(sc, l, nil, &samples[i], row)
	}
	return out
}

// fitRidgeRows fits every analyte on the samples rows, once per penalty. Columns and the
// target are centred on those rows, so the intercept is not penalised.
func refFitRidgeRows(samples []pipeline.Sample, feats [][]float64, sc *pipeline.Scaler, l pipeline.Layout, rows []int, pens []float64) ([]*Ridge, error) {
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
		for k, b := range refSolveRidge(xs, ys, mx, my, pens) {
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
func refSolveRidge(xs [][]float64, ys, mx []float64, my float64, pens []float64) [][]float64 {
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

// TestRidgeStreamedMatchesDense: the streamed fit (sums over chunks of samples) chooses
// the penalty the dense fit chose and gives its coefficients, over several chunks.
func TestRidgeStreamedMatchesDense(t *testing.T) {
	f := newFixture(t, defaultSynth(), 3*ridgeChunk+77, 0, 10)
	l := f.spec.layout()
	want, err := refFitRidge(f.train, f.sc, l, 5)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FitRidge(f.train, f.sc, l, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got.Penalty != want.Penalty {
		t.Fatalf("penalty %v, dense fit chose %v", got.Penalty, want.Penalty)
	}
	for j := range want.beta {
		if (want.beta[j] == nil) != (got.beta[j] == nil) {
			t.Fatalf("analyte %d: coefficients %v, dense %v", j, got.beta[j] != nil, want.beta[j] != nil)
		}
		for c := range want.beta[j] {
			if d := math.Abs(got.beta[j][c] - want.beta[j][c]); d > 1e-7*(1+math.Abs(want.beta[j][c])) {
				t.Fatalf("analyte %d coefficient %d: %v, dense %v", j, c, got.beta[j][c], want.beta[j][c])
			}
		}
		if d := math.Abs(got.intercept[j] - want.intercept[j]); d > 1e-7*(1+math.Abs(want.intercept[j])) {
			t.Fatalf("analyte %d intercept: %v, dense %v", j, got.intercept[j], want.intercept[j])
		}
	}
	a, b := want.Predict(f.tst), got.Predict(f.tst)
	for i := range a {
		for j := range a[i] {
			if d := math.Abs(float64(a[i][j] - b[i][j])); d > 1e-4*(1+math.Abs(float64(a[i][j]))) {
				t.Fatalf("sample %d analyte %d: predicts %v, dense %v", i, j, b[i][j], a[i][j])
			}
		}
	}
}
