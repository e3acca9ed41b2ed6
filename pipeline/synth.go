package pipeline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// SynthOptions configures WriteSynthetic. Zero fields take the documented defaults.
type SynthOptions struct {
	Subjects     int     // default 300
	Seed         int64   // the same seed and options always give the same bytes
	NoiseStd     float64 // Gaussian noise on post values, in per-analyte standard deviations; default 0.1; < 0 means none
	MissingRate  float64 // mean share of unobserved values; default 0.3; < 0 means none
	EmbeddingDim int     // default 128
	// GroupsPerSubject is the mean number of prescription dates per subject (default 4).
	GroupsPerSubject float64
	// MeanPrescriptions is the mean number of prescriptions per group (default 6); about
	// 8% of groups get 21 to 36 prescriptions so the overflow policy is exercised.
	MeanPrescriptions float64
	// Drugs is the size of the drug catalogue (default 40).
	Drugs int
	// MinusOneEverywhere writes every missing value as -1.0, as the original tables do,
	// also in analytes whose values can be negative (by default those get empty cells).
	MinusOneEverywhere bool
	// SignErrors is the share of observed values written negative, as entry errors or a
	// simulation's noise would (0 = none).
	SignErrors float64
}

// SynthAnalyte is one synthetic blood value: its name and the mean and standard
// deviation used to turn standardised values into realistic units.
type SynthAnalyte struct {
	Name string  `json:"name"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// synthAnalytes are the original project's 25 analytes with plausible ICU scales.
var synthAnalytes = []SynthAnalyte{
	{"ph", 7.38, 0.08}, {"pco2", 42, 10}, {"po2", 110, 50}, {"bicarbonate", 24, 4},
	{"baseexcess", 0, 4}, {"totalco2", 25, 4}, {"hematocrit", 31, 5}, {"hemoglobin", 10.5, 1.8},
	{"sodium", 139, 4}, {"potassium", 4.1, 0.6}, {"chloride", 104, 5}, {"glucose", 140, 45},
	{"lactate", 2.2, 1.2}, {"so2", 95, 3}, {"spo2", 96, 3}, {"fio2_chartevents", 50, 18},
	{"aado2_calc", 250, 120}, {"pao2fio2", 250, 100}, {"temperature", 37, 0.7}, {"fio2", 55, 18},
	{"aado2", 240, 120}, {"carboxyhemoglobin", 1.5, 0.7}, {"methemoglobin", 0.8, 0.3},
	{"calcium", 1.12, 0.08}, {"intubated", 0.6, 0.3},
}

// SynthDrug is one catalogue drug: its embedding (standardised, like the original's),
// typical dose and unit code.
type SynthDrug struct {
	Embedding []float32 `json:"embedding"`
	Dose      float64   `json:"dose"`
	Unit      int       `json:"unit"`
}

// SynthInfo documents the generator's known effect so tests and docs can check what a
// model should find. In standardised units z = (value - Mean) / Std, for every group:
//
//	z_post[j] = z_pre[j] + EffectScale * tanh(sum over the group's prescriptions of
//	            (W[j] . embedding) * dose / typical dose / sqrt(RxNorm)) + noise
//
// with noise ~ N(0, NoiseStd). Effect(…) computes the noise-free change.
type SynthInfo struct {
	Seed        int64          `json:"seed"`
	NoiseStd    float64        `json:"noise_std"`
	MissingRate float64        `json:"missing_rate"`
	EffectScale float64        `json:"effect_scale"`
	RxNorm      float64        `json:"rx_norm"`
	Analytes    []SynthAnalyte `json:"analytes"`
	Drugs       []SynthDrug    `json:"drugs"`
	// W is the fixed random projection, one row of EmbeddingDim weights per analyte.
	W [][]float64 `json:"w"`

	Subjects      int `json:"subjects"`
	Groups        int `json:"groups"`
	Rows          int `json:"rows"`
	GroupsOver20  int `json:"groups_over_20"`
	Observed      int `json:"observed_values"`
	Values        int `json:"values"`
	NudgedMinus1s int `json:"nudged_minus_ones"`
	// MinusOneEverywhere and SignErrors as in SynthOptions (SignErrors: values written negative).
	MinusOneEverywhere bool `json:"minus_one_everywhere,omitempty"`
	SignErrors         int  `json:"sign_errors,omitempty"`
}

// signError draws whether an observed value is written negative; it draws nothing
// without SignErrors, so the default tables stay byte for byte what they were.
func (o *SynthOptions) signError(rng *rand.Rand) bool {
	return o.SignErrors > 0 && rng.Float64() < o.SignErrors
}

// Effect is the noise-free change of every analyte, in standardised units, that the
// generator applies for a group's prescriptions (one embedding row per prescription, as
// in Sample.Embeddings; doses as ratios of the drugs' typical doses).
func (si *SynthInfo) Effect(embeddings [][]float32, doseRatios []float64) []float64 {
	dim := len(si.W[0])
	out := make([]float64, len(si.W))
	for j, w := range si.W {
		var acc float64
		for k, r := range doseRatios {
			var dot float64
			for d := 0; d < dim; d++ {
				dot += w[d] * float64(embeddings[k][d])
			}
			acc += dot * r
		}
		out[j] = si.EffectScale * math.Tanh(acc/math.Sqrt(si.RxNorm))
	}
	return out
}

func (o *SynthOptions) defaults() error {
	if o.Subjects == 0 {
		o.Subjects = 300
	}
	if o.Subjects < 0 {
		return fmt.Errorf("subjects %d: expected a positive number", o.Subjects)
	}
	if o.NoiseStd == 0 {
		o.NoiseStd = 0.1
	} else if o.NoiseStd < 0 {
		o.NoiseStd = 0
	}
	if o.MissingRate == 0 {
		o.MissingRate = 0.3
	} else if o.MissingRate < 0 {
		o.MissingRate = 0
	}
	if o.MissingRate >= 1 {
		return fmt.Errorf("missing rate %v: expected less than 1", o.MissingRate)
	}
	if o.EmbeddingDim == 0 {
		o.EmbeddingDim = DefaultEmbeddingDim
	}
	if o.EmbeddingDim < 0 {
		return fmt.Errorf("embedding dim %d: expected a positive number", o.EmbeddingDim)
	}
	if o.GroupsPerSubject == 0 {
		o.GroupsPerSubject = 4
	}
	if o.MeanPrescriptions == 0 {
		o.MeanPrescriptions = 6
	}
	if o.GroupsPerSubject < 1 || o.MeanPrescriptions < 1 {
		return errors.New("groups per subject and mean prescriptions: expected at least 1")
	}
	if o.Drugs == 0 {
		o.Drugs = 40
	}
	if o.Drugs < 1 {
		return fmt.Errorf("drugs %d: expected a positive number", o.Drugs)
	}
	if !(o.SignErrors >= 0 && o.SignErrors < 1) {
		return fmt.Errorf("sign errors %v: expected a share in [0, 1)", o.SignErrors)
	}
	return nil
}

// WriteSynthetic writes a table in the final format (subject_id, prescription_start,
// dose, unit code, pre_charttime, pre_*, post_charttime, post_*, P0..P{dim-1}; -1.0 =
// missing) whose post values follow SynthInfo's known effect. Observed values that
// would print as exactly -1.0 are nudged to -1.01 so the sentinel stays unambiguous.
func WriteSynthetic(w io.Writer, opt SynthOptions) (*SynthInfo, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x626c7565626c6f6f)) // "blueblood"
	dim, na := opt.EmbeddingDim, len(synthAnalytes)
	si := &SynthInfo{Seed: opt.Seed, NoiseStd: opt.NoiseStd, MissingRate: opt.MissingRate,
		EffectScale: 1.0, RxNorm: opt.MeanPrescriptions, Analytes: append([]SynthAnalyte(nil), synthAnalytes...), Subjects: opt.Subjects,
		MinusOneEverywhere: opt.MinusOneEverywhere}
	for d := 0; d < opt.Drugs; d++ {
		e := make([]float32, dim)
		for k := range e {
			e[k] = float32(round(rng.NormFloat64(), 3))
		}
		si.Drugs = append(si.Drugs, SynthDrug{Embedding: e, Dose: round(math.Exp(rng.NormFloat64()*1.5+2), 2) + 0.01, Unit: rng.IntN(15)})
	}
	si.W = make([][]float64, na)
	for j := range si.W {
		si.W[j] = make([]float64, dim)
		for d := range si.W[j] {
			si.W[j][d] = rng.NormFloat64() / math.Sqrt(float64(dim))
		}
	}
	// per-analyte observation probability varies around the requested missing rate, as
	// in the real data where some analytes are rarely measured
	obsP := make([]float64, na)
	for j := range obsP {
		obsP[j] = math.Min(1, math.Max(0, 1-opt.MissingRate*(0.4+1.2*rng.Float64())))
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	header := []string{"subject_id", "prescription_start", "prescription_dose_val_rx", "prescription_dose_unit_rx", "pre_charttime"}
	for _, a := range synthAnalytes {
		header = append(header, "pre_"+a.Name)
	}
	header = append(header, "post_charttime")
	for _, a := range synthAnalytes {
		header = append(header, "post_"+a.Name)
	}
	for d := 0; d < dim; d++ {
		header = append(header, "P"+strconv.Itoa(d))
	}
	for i, h := range header {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(h)
	}
	bw.WriteByte('\n')

	base := time.Date(2125, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf []byte
	zPre := make([]float64, na)
	zPost := make([]float64, na)
	preObs := make([]bool, na)
	postObs := make([]bool, na)
	preVals := make([][]byte, na)
	postVals := make([][]byte, na)
	for s := 0; s < opt.Subjects; s++ {
		subject := strconv.Itoa(10000 + s)
		baseline := make([]float64, na)
		for j := range baseline {
			baseline[j] = 0.8 * rng.NormFloat64()
		}
		groups := 1 + poisson(rng, opt.GroupsPerSubject-1)
		day := base.AddDate(0, 0, rng.IntN(3000))
		for g := 0; g < groups; g++ {
			day = day.AddDate(0, 0, 1+rng.IntN(20))
			nrx := 1 + poisson(rng, opt.MeanPrescriptions-1)
			if rng.Float64() < 0.08 {
				nrx = 21 + rng.IntN(16)
			}
			drugs := make([]int, nrx)
			ratios := make([]float64, nrx)
			doses := make([]float64, nrx)
			emb := make([][]float32, 0, nrx)
			for k := range drugs {
				drugs[k] = rng.IntN(opt.Drugs)
				ratios[k] = []float64{0.5, 1, 1, 1.5, 2}[rng.IntN(5)]
				doses[k] = round(si.Drugs[drugs[k]].Dose*ratios[k], 4)
				ratios[k] = doses[k] / si.Drugs[drugs[k]].Dose
				emb = append(emb, si.Drugs[drugs[k]].Embedding)
			}
			eff := si.Effect(emb, ratios)
			for j := 0; j < na; j++ {
				zPre[j] = baseline[j] + 0.6*rng.NormFloat64()
				zPost[j] = zPre[j] + eff[j] + opt.NoiseStd*rng.NormFloat64()
				preObs[j] = rng.Float64() < obsP[j]
				postObs[j] = rng.Float64() < obsP[j]
				si.Values += 2
				preVals[j] = si.formatValue(preVals[j][:0], j, zPre[j], preObs[j], opt.signError(rng))
				postVals[j] = si.formatValue(postVals[j][:0], j, zPost[j], postObs[j], opt.signError(rng))
			}
			preTime := day.Add(-time.Duration(1+rng.IntN(600)) * time.Minute)
			postTime := day.Add(time.Duration(6*60+rng.IntN(3*24*60)) * time.Minute)
			si.Groups++
			if nrx > 20 {
				si.GroupsOver20++
			}
			for k := 0; k < nrx; k++ {
				buf = buf[:0]
				buf = append(buf, subject...)
				buf = append(buf, ',')
				buf = day.Add(time.Duration(k)*time.Minute).AppendFormat(buf, "2006-01-02T15:04:05")
				buf = append(buf, ',')
				buf = strconv.AppendFloat(buf, doses[k], 'f', -1, 64)
				buf = append(buf, ',')
				buf = strconv.AppendInt(buf, int64(si.Drugs[drugs[k]].Unit), 10)
				buf = append(buf, ',')
				buf = preTime.AppendFormat(buf, "2006-01-02T15:04:05")
				for j := 0; j < na; j++ {
					buf = append(buf, ',')
					buf = append(buf, preVals[j]...)
				}
				buf = append(buf, ',')
				buf = postTime.AppendFormat(buf, "2006-01-02T15:04:05")
				for j := 0; j < na; j++ {
					buf = append(buf, ',')
					buf = append(buf, postVals[j]...)
				}
				for _, v := range si.Drugs[drugs[k]].Embedding {
					buf = append(buf, ',')
					buf = strconv.AppendFloat(buf, float64(v), 'f', -1, 32)
				}
				buf = append(buf, '\n')
				if _, err := bw.Write(buf); err != nil {
					return nil, err
				}
				si.Rows++
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return si, nil
}

// formatValue prints analyte j's standardised value z in original units at a resolution
// of about 1% of the analyte's standard deviation (well below the noise), or, when
// unobserved, the -1.0 missing code for analytes that cannot be negative and an empty
// cell for those that can (a reader keeps -1 as a value in a column with negatives).
// With MinusOneEverywhere every unobserved value is -1.0; negative writes an observed
// value with a negative sign (SignErrors).
func (si *SynthInfo) formatValue(dst []byte, j int, z float64, observed, negative bool) []byte {
	if !observed {
		if a := si.Analytes[j]; a.Mean < 8*a.Std && !si.MinusOneEverywhere {
			return dst
		}
		return append(dst, "-1.0"...)
	}
	si.Observed++
	a := si.Analytes[j]
	v := round(a.Mean+a.Std*z, int(math.Max(0, math.Ceil(-math.Log10(a.Std/100)))))
	if negative {
		v = -math.Abs(v)
		si.SignErrors++
	}
	if v == -1 {
		v = -1.01
		si.NudgedMinus1s++
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// poisson draws from a Poisson distribution with mean lambda (Knuth's method; lambda is small).
func poisson(rng *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l := math.Exp(-lambda)
	k := 0
	p := 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
