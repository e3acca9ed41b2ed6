package model

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// preAdjusted accumulates a least-squares fit of an analyte's change on [1, pre value,
// drug given]: the sums XᵀX and Xᵀy, so folds add up before the one solve.
type preAdjusted struct {
	xx [9]float64 // row-major 3×3; xx[0] counts the groups
	xy [3]float64
}

func (p *preAdjusted) add(pre float64, drug bool, change float64) {
	x := [3]float64{1, pre, 0}
	if drug {
		x[2] = 1
	}
	for r := 0; r < 3; r++ {
		for c := 0; c < 3; c++ {
			p.xx[r*3+c] += x[r] * x[c]
		}
		p.xy[r] += x[r] * change
	}
}

func (p *preAdjusted) merge(o *preAdjusted) {
	for i, v := range o.xx {
		p.xx[i] += v
	}
	for i, v := range o.xy {
		p.xy[i] += v
	}
}

// drugCoefficient is the fit's drug coefficient: the difference in change with the drug
// at equal pre value; NaN when no group, or every group, had it.
func (p *preAdjusted) drugCoefficient() float64 {
	var b mat.VecDense
	if err := b.SolveVec(mat.NewDense(3, 3, p.xx[:]), mat.NewVecDense(3, p.xy[:])); err != nil {
		return math.NaN()
	}
	if v := b.AtVec(2); !math.IsNaN(v) && !math.IsInf(v, 0) {
		return v
	}
	return math.NaN()
}
