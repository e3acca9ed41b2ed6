package model

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// synthSpec describes a small synthetic data set with a known drug effect: post = pre +
// sum over prescriptions of effect[drug] * log1p(dose) + noise. Analyte j has mean
// 10*(j+1) and standard deviation j+1; the noise is noiseSD standard deviations.
type synthSpec struct {
	analytes, embDim, drugs, maxRx int
	blockRows, blockFeatures       int
	noiseSD                        float64
	pObserved                      float64
}

func defaultSynth() synthSpec {
	return synthSpec{analytes: 5, embDim: 6, drugs: 10, maxRx: 6, blockRows: 8, blockFeatures: 8, noiseSD: 0.15, pObserved: 0.8}
}

func (sp synthSpec) layout() pipeline.Layout {
	names := make([]string, sp.analytes)
	for j := range names {
		names[j] = "an" + strconv.Itoa(j)
	}
	return pipeline.Layout{Analytes: names, EmbeddingDim: sp.embDim, BlockRows: sp.blockRows, BlockFeatures: sp.blockFeatures}
}

// generate makes n samples (subjects s0..s{n-1}) from seed; the drug table (embeddings
// and effects) depends only on tableSeed so that splits share it.
func (sp synthSpec) generate(n int, seed, tableSeed uint64) []pipeline.Sample {
	emb, eff := sp.drugTable(tableSeed)
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]pipeline.Sample, n)
	a := sp.analytes
	for i := range out {
		s := pipeline.Sample{Subject: "s" + strconv.Itoa(i), Start: "2020-01-01",
			Pre: make([]float32, a), PreObserved: make([]bool, a), Post: make([]float32, a), PostObserved: make([]bool, a)}
		nrx := 1 + r.IntN(sp.maxRx)
		shift := make([]float64, a) // in standard deviations
		for k := 0; k < nrx; k++ {
			d := r.IntN(sp.drugs)
			dose := math.Exp(r.NormFloat64())
			s.Embeddings = append(s.Embeddings, emb[d])
			s.Doses = append(s.Doses, float32(dose))
			s.Units = append(s.Units, "mg")
			for j := range shift {
				shift[j] += eff[d][j] * math.Log1p(dose)
			}
		}
		for j := 0; j < a; j++ {
			mean, sd := 10*float64(j+1), float64(j+1)
			pre := mean + sd*r.NormFloat64()
			s.Pre[j] = float32(pre)
			s.PreObserved[j] = r.Float64() < sp.pObserved
			s.Post[j] = float32(pre + sd*(shift[j]+sp.noiseSD*r.NormFloat64()))
			s.PostObserved[j] = r.Float64() < sp.pObserved
			if !s.PreObserved[j] {
				s.Pre[j] = -1 // a sentinel the model must never read
			}
		}
		out[i] = s
	}
	return out
}

// drugTable is each drug's embedding and its effect per analyte (standard deviations per
// log1p(dose)), from tableSeed alone.
func (sp synthSpec) drugTable(tableSeed uint64) (emb [][]float32, eff [][]float64) {
	tr := rand.New(rand.NewPCG(tableSeed, 1))
	emb = make([][]float32, sp.drugs)
	eff = make([][]float64, sp.drugs)
	for d := range emb {
		emb[d] = make([]float32, sp.embDim)
		for k := range emb[d] {
			emb[d][k] = float32(tr.NormFloat64())
		}
		eff[d] = make([]float64, sp.analytes)
		for j := range eff[d] {
			eff[d][j] = 0.6 * tr.NormFloat64()
		}
	}
	return emb, eff
}

// fixture is a fitted scaler and three splits of one synthetic data set.
type fixture struct {
	spec            synthSpec
	sc              *pipeline.Scaler
	train, val, tst []pipeline.Sample
}

func newFixture(t testing.TB, sp synthSpec, nTrain, nVal, nTest int) *fixture {
	t.Helper()
	all := sp.generate(nTrain+nVal+nTest, 11, 5)
	f := &fixture{spec: sp, train: all[:nTrain], val: all[nTrain : nTrain+nVal], tst: all[nTrain+nVal:]}
	sc, err := pipeline.FitScaler(f.train, sp.layout())
	if err != nil {
		t.Fatal(err)
	}
	f.sc = sc
	return f
}

func (f *fixture) config(arch string) Config {
	return Config{Architecture: arch, LSTMUnits: 16, EncoderUnits: 16, DropoutRate: 0.1, Layout: f.spec.layout()}
}
