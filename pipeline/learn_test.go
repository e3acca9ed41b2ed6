package pipeline

import (
	"bytes"
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestSyntheticIsLearnable checks the promise of the bundled default data: a model that
// uses the prescriptions beats predicting post = pre and predicting the training mean,
// and the generator's documented effect reaches its noise floor. The model is a ridge
// regression of the change (post - pre, standardised) on the sum of the group's
// embeddings and the sum of embeddings weighted by the scaled dose.
func TestSyntheticIsLearnable(t *testing.T) {
	ctx := context.Background()
	ds, _, err := ReadTables(ctx, []string{"testdata/synthetic.csv.gz"}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	samples, _, err := LimitRows(ds.Samples, 20, PolicyTruncate)
	if err != nil {
		t.Fatal(err)
	}
	train, _, test := SplitBySubject(samples, [3]float64{0.7, 0.15, 0.15}, 1)
	sc, err := FitScaler(train, ds.Layout)
	if err != nil {
		t.Fatal(err)
	}
	dim := ds.Layout.EmbeddingDim
	p := 2*dim + 1
	features := func(s *Sample) []float64 {
		x := make([]float64, p)
		row := make([]float32, ds.Layout.RxFeatures())
		for k := 0; k < s.NumRx(); k++ {
			sc.RxRow(s, k, row)
			for d := 0; d < dim; d++ {
				x[d] += float64(row[d])
				x[dim+d] += float64(row[d]) * float64(row[dim])
			}
		}
		x[2*dim] = 1
		return x
	}
	na := len(ds.Layout.Analytes)
	// fit one ridge per analyte on training pairs where pre and post are observed
	betas := make([]*mat.VecDense, na)
	for j := 0; j < na; j++ {
		var rows [][]float64
		var ys []float64
		for i := range train {
			s := &train[i]
			if s.PreObserved[j] && s.PostObserved[j] {
				rows = append(rows, features(s))
				ys = append(ys, float64(sc.ScaleAnalyte(j, s.Post[j])-sc.ScaleAnalyte(j, s.Pre[j])))
			}
		}
		x := mat.NewDense(len(rows), p, nil)
		for i, r := range rows {
			x.SetRow(i, r)
		}
		var xtx mat.SymDense
		xtx.SymOuterK(1, x.T())
		for d := 0; d < p; d++ {
			xtx.SetSym(d, d, xtx.At(d, d)+10)
		}
		var xty mat.VecDense
		xty.MulVec(x.T(), mat.NewVecDense(len(ys), ys))
		var ch mat.Cholesky
		if !ch.Factorize(&xtx) {
			t.Fatalf("analyte %d: ridge system not positive definite", j)
		}
		betas[j] = mat.NewVecDense(p, nil)
		if err := ch.SolveVecTo(betas[j], &xty); err != nil {
			t.Fatal(err)
		}
	}
	var seModel, sePersist, seMean float64
	n := 0
	for i := range test {
		s := &test[i]
		x := mat.NewVecDense(p, features(s))
		for j := 0; j < na; j++ {
			if !s.PreObserved[j] || !s.PostObserved[j] {
				continue
			}
			pre, post := float64(sc.ScaleAnalyte(j, s.Pre[j])), float64(sc.ScaleAnalyte(j, s.Post[j]))
			pred := pre + mat.Dot(x, betas[j])
			seModel += (pred - post) * (pred - post)
			sePersist += (pre - post) * (pre - post)
			seMean += post * post // the training mean is 0 after scaling
			n++
		}
	}
	rm, rp, rmean := math.Sqrt(seModel/float64(n)), math.Sqrt(sePersist/float64(n)), math.Sqrt(seMean/float64(n))
	t.Logf("test RMSE (standardised, %d values): ridge %.3f, post=pre %.3f, training mean %.3f", n, rm, rp, rmean)
	if !(rm < 0.75*rp && rm < 0.5*rmean) {
		t.Fatalf("ridge %.3f does not clearly beat post=pre %.3f and the mean %.3f", rm, rp, rmean)
	}
}

// TestSynthInfoEffect regenerates a small table and checks that SynthInfo's documented
// effect explains post - pre up to the stated noise.
func TestSynthInfoEffect(t *testing.T) {
	var buf bytes.Buffer
	si, err := WriteSynthetic(&buf, SynthOptions{Subjects: 40, Seed: 4, EmbeddingDim: 8, NoiseStd: 0.05, MissingRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	if si.Observed != si.Values || si.GroupsOver20 == 0 {
		t.Fatalf("missing rate -1 must observe all values (%d of %d); groups over 20: %d", si.Observed, si.Values, si.GroupsOver20)
	}
	p := writeTemp(t, "s.csv", buf.String())
	ds, rep, err := ReadTables(context.Background(), []string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Groups != si.Groups || rep.Prescriptions != si.Rows || rep.Subjects != si.Subjects || rep.GroupsOver20 != si.GroupsOver20 {
		t.Fatalf("read %d groups %d rows %d subjects, generator says %d %d %d", rep.Groups, rep.Prescriptions, rep.Subjects, si.Groups, si.Rows, si.Subjects)
	}
	typical := map[float32]float64{} // first embedding value identifies the drug here
	for _, d := range si.Drugs {
		typical[d.Embedding[0]] = d.Dose
	}
	var se float64
	n := 0
	for i := range ds.Samples {
		s := &ds.Samples[i]
		ratios := make([]float64, s.NumRx())
		for k := range ratios {
			ratios[k] = float64(s.Doses[k]) / typical[s.Embeddings[k][0]]
		}
		eff := si.Effect(s.Embeddings, ratios)
		for j, a := range si.Analytes {
			zPre := (float64(s.Pre[j]) - a.Mean) / a.Std
			zPost := (float64(s.Post[j]) - a.Mean) / a.Std
			r := zPost - zPre - eff[j]
			se += r * r
			n++
		}
	}
	// rounding to 1% of a standard deviation adds a little to the noise
	if rmse := math.Sqrt(se / float64(n)); rmse > 0.05*1.3 || rmse < 0.05*0.7 {
		t.Fatalf("residual after the documented effect %.4f, want about the noise 0.05", rmse)
	}
}
