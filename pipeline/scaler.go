package pipeline

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// ScalerVersion is bumped when the meaning of Scaler's fields changes.
const ScalerVersion = 1

// Scaler holds everything fitted on the training split: per-analyte standardisation of
// blood values, dose standardisation after a signed log1p (doses span 1e-5 to 1e4 across
// units) and the unit vocabulary. It is plain data so the dataset manifest and the model
// can store it as JSON; its methods never modify it, so it is safe for concurrent use.
type Scaler struct {
	Version  int       `json:"version"`
	Analytes []string  `json:"analytes"`
	Mean     []float64 `json:"mean"` // per analyte, over observed training pre and post values
	Std      []float64 `json:"std"`  // per analyte; 1 where a value is constant or unseen
	// Observed counts the training values each analyte's mean and std came from.
	Observed []int `json:"observed"`
	// MinCount is the fewest training values a std is fitted from; Thin lists the analytes
	// with fewer or with no spread at all, whose std is the fallback max(sd, |mean|) (1 when
	// that is 0 or the analyte was never observed): two values 2 apart must not make a unit
	// of 2, nor fourteen equal values a unit of 1.
	MinCount int      `json:"min_count,omitempty"`
	Thin     []string `json:"thin_analytes,omitempty"`

	DoseMean float64 `json:"dose_mean"` // of sign(d)*log1p(|d|) over observed training doses
	DoseStd  float64 `json:"dose_std"`

	// Units is the sorted unit vocabulary; unit Units[i] has code i+1 and code 0 is
	// reserved for units not seen in training (including an empty unit).
	Units []string `json:"units"`
	// UnitDoses, sorted by unit, scale the doses of those units instead of DoseMean and
	// DoseStd (FitUnitDoses); empty unless the run asked for it.
	UnitDoses []DoseScale `json:"unit_doses,omitempty"`
}

// MinScaleCount is the fewest training values (pre and post together) an analyte's
// standard deviation is fitted from; below it the std is the fallback max(sd, |mean|).
const MinScaleCount = 10

// ThinRule says in words how thin analytes are scaled, for summaries and reports.
var ThinRule = fmt.Sprintf("fewer than %d training values, or all equal: std = max(sd, |mean|)", MinScaleCount)

// FitScaler fits a scaler on training samples only.
func FitScaler(train []Sample, l Layout) (*Scaler, error) {
	if len(train) == 0 {
		return nil, errors.New("fit scaler: no training samples")
	}
	na := len(l.Analytes)
	s := &Scaler{Version: ScalerVersion, Analytes: append([]string(nil), l.Analytes...),
		Mean: make([]float64, na), Std: make([]float64, na), Observed: make([]int, na)}
	sum := make([]float64, na)
	sq := make([]float64, na)
	var dn int
	var dsum, dsq float64
	units := map[string]bool{}
	for i := range train {
		smp := &train[i]
		if len(smp.Pre) != na || len(smp.Post) != na {
			return nil, fmt.Errorf("fit scaler: sample %s/%s has %d pre and %d post values, layout has %d analytes", smp.Subject, smp.Start, len(smp.Pre), len(smp.Post), na)
		}
		for j := 0; j < na; j++ {
			if smp.PreObserved[j] {
				v := float64(smp.Pre[j])
				sum[j] += v
				sq[j] += v * v
				s.Observed[j]++
			}
			if smp.PostObserved[j] {
				v := float64(smp.Post[j])
				sum[j] += v
				sq[j] += v * v
				s.Observed[j]++
			}
		}
		for k, d := range smp.Doses {
			if !math.IsNaN(float64(d)) {
				t := doseTransform(d)
				dsum += t
				dsq += t * t
				dn++
			}
			if u := smp.Units[k]; u != "" {
				units[u] = true
			}
		}
	}
	s.MinCount = MinScaleCount
	for j := 0; j < na; j++ {
		var spread bool
		s.Mean[j], s.Std[j], spread = meanStdSpread(sum[j], sq[j], s.Observed[j])
		if s.Observed[j] < MinScaleCount || !spread {
			s.Thin = append(s.Thin, l.Analytes[j])
			if s.Observed[j] > 0 {
				s.Std[j] = math.Max(s.Std[j], math.Abs(s.Mean[j]))
			}
		}
	}
	s.DoseMean, s.DoseStd = meanStd(dsum, dsq, dn)
	for u := range units {
		s.Units = append(s.Units, u)
	}
	sort.Strings(s.Units)
	return s, nil
}

// meanStd returns mean and population std, with std 1 when undefined or zero so that
// scaling never divides by zero.
func meanStd(sum, sq float64, n int) (float64, float64) {
	m, sd, _ := meanStdSpread(sum, sq, n)
	return m, sd
}

// meanStdSpread is meanStd that also says whether the values had any spread.
func meanStdSpread(sum, sq float64, n int) (float64, float64, bool) {
	if n == 0 {
		return 0, 1, false
	}
	m := sum / float64(n)
	v := sq/float64(n) - m*m
	if v <= 1e-12*math.Max(1, m*m) {
		return m, 1, false
	}
	return m, math.Sqrt(v), true
}

func doseTransform(d float32) float64 {
	v := float64(d)
	if v < 0 {
		return -math.Log1p(-v)
	}
	return math.Log1p(v)
}

// ScaleAnalyte standardises value v of analyte j.
func (s *Scaler) ScaleAnalyte(j int, v float32) float32 {
	return float32((float64(v) - s.Mean[j]) / s.Std[j])
}

// UnscaleAnalyte maps a standardised value of analyte j back to original units.
func (s *Scaler) UnscaleAnalyte(j int, v float32) float32 {
	return float32(float64(v)*s.Std[j] + s.Mean[j])
}

// ScaleDose standardises a dose of unit (with the unit's own scale where it has one); a
// missing dose (NaN) becomes 0, the training mean.
func (s *Scaler) ScaleDose(d float32, unit string) float32 {
	if math.IsNaN(float64(d)) {
		return 0
	}
	mean, std := s.doseScale(unit)
	return float32((doseTransform(d) - mean) / std)
}

// UnitCode is the unit's vocabulary code: 1..len(Units), or 0 for an unseen unit.
func (s *Scaler) UnitCode(unit string) int {
	u := NormalizeUnit(unit)
	i := sort.SearchStrings(s.Units, u)
	if i < len(s.Units) && s.Units[i] == u && u != "" {
		return i + 1
	}
	return 0
}

// KnownUnit reports whether the unit was seen in training.
func (s *Scaler) KnownUnit(unit string) bool { return s.UnitCode(unit) != 0 }

// UnitFeature is the unit's code divided by the vocabulary size, so it lies in [0, 1]
// and unseen units are 0.
func (s *Scaler) UnitFeature(unit string) float32 {
	c := s.UnitCode(unit)
	if c == 0 {
		return 0
	}
	return float32(c) / float32(len(s.Units))
}

// RxRow writes prescription row i of smp, scaled, into dst (len == Layout.RxFeatures()):
// the embedding values as stored, then the scaled dose (0 if missing), then the unit
// feature. A dst of the wrong length is a programmer error and panics.
func (s *Scaler) RxRow(smp *Sample, i int, dst []float32) {
	dim := len(smp.Embeddings[i])
	if len(dst) != dim+2 {
		panic(fmt.Sprintf("pipeline: RxRow dst has %d values, want %d", len(dst), dim+2))
	}
	copy(dst, smp.Embeddings[i])
	dst[dim], dst[dim+1] = s.RxDoseUnit(smp, i)
}

// RxDoseUnit is prescription row i's scaled dose (0 if missing) and unit feature: RxRow's
// last two values, for callers that keep the embedding row itself (shared) instead of a copy.
func (s *Scaler) RxDoseUnit(smp *Sample, i int) (dose, unit float32) {
	return s.ScaleDose(smp.Doses[i], smp.Units[i]), s.UnitFeature(smp.Units[i])
}

// Check verifies that the scaler fits a layout.
func (s *Scaler) Check(l Layout) error {
	switch {
	case s.Version == ScalerVersion && len(s.UnitDoses) == 0:
	case s.Version == scalerUnitDosesVersion && len(s.UnitDoses) > 0:
	default:
		return fmt.Errorf("scaler version %d with %d unit dose scales: expected version %d without them or %d with them", s.Version, len(s.UnitDoses), ScalerVersion, scalerUnitDosesVersion)
	}
	for i, u := range s.UnitDoses {
		if u.Unit == "" || (i > 0 && s.UnitDoses[i-1].Unit >= u.Unit) || !(u.Std > 0) || math.IsInf(u.Std, 0) || math.IsNaN(u.Mean) || math.IsInf(u.Mean, 0) {
			return fmt.Errorf("scaler unit dose scale %d (%q): expected distinct units in order, a finite mean and a positive std", i, u.Unit)
		}
	}
	if !slices.Equal(s.Analytes, l.Analytes) {
		return fmt.Errorf("scaler analytes %v differ from layout analytes %v", s.Analytes, l.Analytes)
	}
	if len(s.Mean) != len(s.Analytes) || len(s.Std) != len(s.Analytes) {
		return fmt.Errorf("scaler has %d means and %d stds for %d analytes", len(s.Mean), len(s.Std), len(s.Analytes))
	}
	for j, v := range s.Std {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("scaler std of %s is %v: expected a positive number", s.Analytes[j], v)
		}
	}
	if !(s.DoseStd > 0) {
		return fmt.Errorf("scaler dose std is %v: expected a positive number", s.DoseStd)
	}
	if !sort.StringsAreSorted(s.Units) {
		return errors.New("scaler units are not sorted")
	}
	return nil
}
