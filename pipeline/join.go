package pipeline

import (
	"sort"
	"time"
)

// join turns separate prescription and blood-test rows into samples the way the
// original's database step did: per (subject, prescription date), the latest test at or
// before the group's earliest prescription time is the pre row and the first test after
// it the post row, each within MaxGapDays when that is set.
func (rd *tableReader) join() {
	na := len(rd.layout.Analytes)
	bySubject := map[string][]bloodRow{}
	for _, b := range rd.blood {
		bySubject[b.subject] = append(bySubject[b.subject], b)
	}
	for _, rows := range bySubject {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].at.Before(rows[j].at) })
	}
	type group struct {
		subject, date string
		first         time.Time
		rows          []int
	}
	var groups []*group
	byKey := map[string]*group{}
	for i, r := range rd.rx {
		date := r.at.Format("2006-01-02")
		k := r.subject + "\x00" + date
		g, ok := byKey[k]
		if !ok {
			g = &group{subject: r.subject, date: date, first: r.at}
			byKey[k] = g
			groups = append(groups, g)
		}
		if r.at.Before(g.first) {
			g.first = r.at
		}
		g.rows = append(g.rows, i)
	}
	maxGap := time.Duration(rd.opt.MaxGapDays * 24 * float64(time.Hour))
	for _, g := range groups {
		tests := bySubject[g.subject]
		// first test strictly after the reference time
		k := sort.Search(len(tests), func(i int) bool { return tests[i].at.After(g.first) })
		var pre, post *bloodRow
		if k > 0 {
			pre = &tests[k-1]
			if maxGap > 0 && g.first.Sub(pre.at) > maxGap {
				pre = nil
			}
		}
		if k < len(tests) {
			post = &tests[k]
			if maxGap > 0 && post.at.Sub(g.first) > maxGap {
				post = nil
			}
		}
		if pre == nil {
			rd.rep.GroupsWithoutPre++
		}
		if post == nil {
			rd.rep.GroupsWithoutPost++
		}
		if pre == nil || post == nil {
			continue
		}
		smp := Sample{
			Subject: g.subject, Start: g.date,
			Pre: append([]float32(nil), pre.values[:na]...), PreObserved: append([]bool(nil), pre.observed[:na]...),
			Post: append([]float32(nil), post.values[:na]...), PostObserved: append([]bool(nil), post.observed[:na]...),
		}
		for _, i := range g.rows {
			r := rd.rx[i]
			smp.Embeddings = append(smp.Embeddings, r.emb)
			smp.Doses = append(smp.Doses, r.dose)
			smp.Units = append(smp.Units, r.unit)
			smp.addDrug(r.drug)
		}
		rd.samples = append(rd.samples, smp)
	}
}
