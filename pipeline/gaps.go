package pipeline

import (
	"hash/maphash"
	"math"
	"slices"
	"time"
)

// GapReport describes how far a final table's pre and post blood tests lie from the
// prescription date they are paired with (pre_charttime and post_charttime against the
// group's first prescription_start). Long gaps mean the pair says little about the
// drugs: the original tables paired the last test before the date with the first after
// it, whatever the gap.
type GapReport struct {
	Groups int      `json:"groups_with_times"` // groups with both chart times
	Pre    Quantile `json:"pre_hours"`         // hours from the pre test to the prescription
	Post   Quantile `json:"post_hours"`        // hours from the prescription to the post test
	// BothWithin24h counts groups with both tests within 24 hours of the prescription.
	BothWithin24h int `json:"both_within_24h"`
	// MaxGroupsPerPostTest is the most prescription dates one post test (subject, time) serves.
	MaxGroupsPerPostTest int     `json:"max_groups_per_post_test"`
	MaxGapHours          float64 `json:"max_gap_hours,omitempty"` // ReadOptions.MaxGapHours
	DroppedOverMax       int     `json:"dropped_over_max"`        // groups dropped for a longer gap
}

// Quantile summarises a distribution of hours.
type Quantile struct {
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
	Max    float64 `json:"max"`
}

// groupGap is one final-table group's gaps in hours (NaN when a time is missing or not
// a time) and its post test's identity: a 64-bit hash of (subject, post chart time), not
// the text, as a reader keeps one per group (a million at MIMIC scale) only to count
// how many groups share a test. set is false for groups noteGap never saw.
type groupGap struct {
	pre, post float64
	postTest  uint64
	set       bool
}

// noteGap records the chart-time gaps of a new group whose first row is p.
func (rd *tableReader) noteGap(s *schema, p *rowParser, i int, subject string, start time.Time) {
	if s.preChart < 0 && s.postChart < 0 {
		return
	}
	hours := func(col int, after bool) float64 {
		if col < 0 {
			return math.NaN()
		}
		t, err := parseTime(p.f(col))
		if err != nil {
			return math.NaN() // an unreadable time is an unknown gap, not a bad row
		}
		if after {
			return t.Sub(start).Hours()
		}
		return start.Sub(t).Hours()
	}
	g := groupGap{pre: hours(s.preChart, false), post: hours(s.postChart, true), set: true}
	if !math.IsNaN(g.post) {
		var h maphash.Hash
		h.SetSeed(gapSeed)
		h.WriteString(subject)
		h.WriteByte(0)
		h.WriteString(p.f(s.postChart))
		g.postTest = h.Sum64()
	}
	for len(rd.gaps) < i {
		rd.gaps = append(rd.gaps, groupGap{})
	}
	rd.gaps = append(rd.gaps[:i], g)
}

// gapSeed seeds the post-test hashes: one seed for the process, so equal tests hash equal.
var gapSeed = maphash.MakeSeed()

// applyGaps fills the report's gap figures and drops the groups whose pre or post test
// lies more than MaxGapHours from the prescription.
func (rd *tableReader) applyGaps() {
	if len(rd.gaps) == 0 {
		return
	}
	gr := &GapReport{MaxGapHours: rd.opt.MaxGapHours}
	var pre, post []float64
	perTest := map[uint64]int{}
	for _, g := range rd.gaps {
		if !g.set {
			continue
		}
		if !math.IsNaN(g.post) {
			perTest[g.postTest]++
			gr.MaxGroupsPerPostTest = max(gr.MaxGroupsPerPostTest, perTest[g.postTest])
		}
		if math.IsNaN(g.pre) || math.IsNaN(g.post) {
			continue
		}
		gr.Groups++
		pre, post = append(pre, g.pre), append(post, g.post)
		if g.pre <= 24 && g.post <= 24 {
			gr.BothWithin24h++
		}
	}
	gr.Pre, gr.Post = quantiles(pre), quantiles(post)
	if limit := rd.opt.MaxGapHours; limit > 0 {
		kept := rd.samples[:0]
		for i, s := range rd.samples {
			if i < len(rd.gaps) && rd.gaps[i].set && (rd.gaps[i].pre > limit || rd.gaps[i].post > limit) {
				gr.DroppedOverMax++
				continue
			}
			kept = append(kept, s)
		}
		rd.samples = kept
	}
	rd.rep.Gaps = gr
}

func quantiles(v []float64) Quantile {
	if len(v) == 0 {
		return Quantile{}
	}
	slices.Sort(v)
	at := func(q float64) float64 { return v[int(math.Round(q*float64(len(v)-1)))] }
	return Quantile{Median: at(0.5), P90: at(0.9), Max: v[len(v)-1]}
}

// writeText prints the gap figures for people.
func (g *GapReport) writeText(ew *errWriter) {
	ew.printf("test gaps (hours):   pre test -> prescription median %.0f, 90%% %.0f, max %.0f; prescription -> post test median %.0f, 90%% %.0f, max %.0f\n",
		g.Pre.Median, g.Pre.P90, g.Pre.Max, g.Post.Median, g.Post.P90, g.Post.Max)
	ew.printf("                     %d of %d groups have both tests within 24 h; one post test serves up to %d prescription dates\n",
		g.BothWithin24h, g.Groups, g.MaxGroupsPerPostTest)
	if g.MaxGapHours > 0 {
		ew.printf("                     max gap %g h: %d groups dropped\n", g.MaxGapHours, g.DroppedOverMax)
	}
}
