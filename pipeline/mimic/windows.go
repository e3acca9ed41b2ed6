package mimic

import (
	"math"
	"sort"
)

// slot holds, for one group and analyte, the best pre and post value seen so far as
// offsets in seconds from the group's start (-1: none yet). Windows pair values
// while labevents streams, so memory is groups x analytes, not the lab values.
type slot struct {
	preDT, postDT int32
	preV, postV   float32
	preCross      bool // the value came from another admission (AnyAdmission only)
	postCross     bool
}

// windowPairer pairs streamed values with groups by the windows.
type windowPairer struct {
	groups   []group
	starts   []int64 // groups' starts, sorted within each subject
	bySub    [][2]int32
	na       int
	slots    []slot // len(groups) * na
	pre, lag int64  // seconds
	post     int64
	anyAdm   bool
}

func newWindowPairer(groups []group, bySub [][2]int32, na int, preH, lagH, postH float64, anyAdm bool) *windowPairer {
	w := &windowPairer{groups: groups, bySub: bySub, na: na, anyAdm: anyAdm,
		pre: hoursToSec(preH), lag: hoursToSec(lagH), post: hoursToSec(postH)}
	w.starts = make([]int64, len(groups))
	for i, g := range groups {
		w.starts[i] = g.start
	}
	w.slots = newSlots(len(groups) * na)
	return w
}

// newSlots returns n slots with nothing paired yet.
func newSlots(n int) []slot {
	slots := make([]slot, n)
	for i := range slots {
		slots[i].preDT, slots[i].postDT = -1, -1
	}
	return slots
}

func hoursToSec(h float64) int64 { return int64(math.Round(h * 3600)) }

// add offers one value to every group whose windows hold it: as pre when the group
// starts within the pre window after it, as post when it lies between the minimum lag
// and the post window after the group's start. Ties in time keep the larger value, so
// the result does not depend on the file's row order.
func (w *windowPairer) add(v labValue) {
	r := w.bySub[v.subject]
	starts := w.starts[r[0]:r[1]]
	// groups with start in [t - post, t + pre]
	k := sort.Search(len(starts), func(i int) bool { return starts[i] >= v.t-w.post })
	for ; k < len(starts) && starts[k] <= v.t+w.pre; k++ {
		gi := int(r[0]) + k
		g := &w.groups[gi]
		cross := v.hadm != g.hadm || g.hadm == 0
		if cross && !w.anyAdm {
			continue
		}
		s := &w.slots[gi*w.na+int(v.analyte)]
		if dt := g.start - v.t; dt >= 0 && dt <= w.pre {
			if s.preDT < 0 || int32(dt) < s.preDT || (int32(dt) == s.preDT && v.v > s.preV) {
				s.preDT, s.preV, s.preCross = int32(dt), v.v, cross
			}
		}
		if dt := v.t - g.start; dt >= w.lag && dt <= w.post {
			if s.postDT < 0 || int32(dt) < s.postDT || (int32(dt) == s.postDT && v.v > s.postV) {
				s.postDT, s.postV, s.postCross = int32(dt), v.v, cross
			}
		}
	}
}
