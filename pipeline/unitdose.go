package pipeline

import (
	"math"
	"sort"
)

// scalerUnitDosesVersion marks a scaler with unit dose scales: a reader that predates
// them would scale those doses with the overall scale and must refuse the scaler instead.
const scalerUnitDosesVersion = 2

// MinUnitDoses is how many training doses a unit needs before it gets a dose scale of its
// own; rarer units keep the scale of all doses.
const MinUnitDoses = 20

// DoseScale is one unit's mean and standard deviation of sign(d)*log1p(|d|) over its
// observed training doses.
type DoseScale struct {
	Unit string  `json:"unit"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// FitUnitDoses gives every unit with at least MinUnitDoses observed training doses a
// scale of its own, so a dose reads as high or low for its unit: 40 mEq of potassium
// chloride and 2 g of magnesium sulfate are both usual doses, 1,000 mL of saline is not
// 25 times either. ScaleDose then uses it for rows of that unit.
func (s *Scaler) FitUnitDoses(train []Sample) {
	type acc struct {
		n       int
		sum, sq float64
	}
	by := map[string]*acc{}
	for i := range train {
		smp := &train[i]
		for k, d := range smp.Doses {
			u := NormalizeUnit(smp.Units[k])
			if math.IsNaN(float64(d)) || u == "" {
				continue
			}
			a := by[u]
			if a == nil {
				a = &acc{}
				by[u] = a
			}
			t := doseTransform(d)
			a.n++
			a.sum += t
			a.sq += t * t
		}
	}
	s.UnitDoses = nil
	for u, a := range by {
		if a.n >= MinUnitDoses {
			m, sd := meanStd(a.sum, a.sq, a.n)
			s.UnitDoses = append(s.UnitDoses, DoseScale{Unit: u, Mean: m, Std: sd})
		}
	}
	sort.Slice(s.UnitDoses, func(i, j int) bool { return s.UnitDoses[i].Unit < s.UnitDoses[j].Unit })
	s.Version = ScalerVersion
	if len(s.UnitDoses) > 0 {
		s.Version = scalerUnitDosesVersion
	}
}

// doseScale is the mean and std a dose of unit is scaled with.
func (s *Scaler) doseScale(unit string) (mean, std float64) {
	if len(s.UnitDoses) > 0 {
		u := NormalizeUnit(unit)
		i := sort.Search(len(s.UnitDoses), func(i int) bool { return s.UnitDoses[i].Unit >= u })
		if i < len(s.UnitDoses) && s.UnitDoses[i].Unit == u {
			return s.UnitDoses[i].Mean, s.UnitDoses[i].Std
		}
	}
	return s.DoseMean, s.DoseStd
}
