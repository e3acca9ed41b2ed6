package mimic

import "testing"

// TestWindowBoundaries: pre takes the latest value in [start-pre, start], post the first
// in [start+lag, start+post], both from the group's admission unless any admission is
// allowed; equal times keep the larger value whatever the order they come in.
func TestWindowBoundaries(t *testing.T) {
	const h = 3600
	start := int64(1000 * h)
	cases := []struct {
		name          string
		anyAdm        bool
		values        []labValue // subject 0, analyte 0
		pre, post     float32
		preDT, postDT int32
		preCross      bool
	}{
		{name: "edges inside", values: []labValue{{t: start - 24*h, v: 1, hadm: 7}, {t: start + 24*h, v: 2, hadm: 7}},
			pre: 1, preDT: 24 * h, post: 2, postDT: 24 * h},
		{name: "edges outside", values: []labValue{{t: start - 24*h - 1, v: 1, hadm: 7}, {t: start + 24*h + 1, v: 2, hadm: 7}, {t: start + h - 1, v: 3, hadm: 7}},
			preDT: -1, postDT: -1},
		{name: "latest before, first after", values: []labValue{{t: start - 5*h, v: 1, hadm: 7}, {t: start, v: 2, hadm: 7}, {t: start + 3*h, v: 4, hadm: 7}, {t: start + 2*h, v: 3, hadm: 7}},
			pre: 2, preDT: 0, post: 3, postDT: 2 * h},
		{name: "ties keep the larger", values: []labValue{{t: start - h, v: 5, hadm: 7}, {t: start - h, v: 6, hadm: 7}, {t: start + 2*h, v: 9, hadm: 7}, {t: start + 2*h, v: 8, hadm: 7}},
			pre: 6, preDT: h, post: 9, postDT: 2 * h},
		{name: "other admission skipped", values: []labValue{{t: start - h, v: 5, hadm: 8}, {t: start + 2*h, v: 9, hadm: 0}},
			preDT: -1, postDT: -1},
		{name: "other admission allowed", anyAdm: true, values: []labValue{{t: start - h, v: 5, hadm: 8}, {t: start + 2*h, v: 9, hadm: 7}},
			pre: 5, preDT: h, preCross: true, post: 9, postDT: 2 * h},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			groups := []group{{subject: 1, hadm: 7, start: start}}
			w := newWindowPairer(groups, [][2]int32{{0, 1}}, 1, 24, 1, 24, c.anyAdm)
			for _, v := range c.values {
				w.add(v)
			}
			s := w.slots[0]
			if s.preDT != c.preDT || s.postDT != c.postDT || (c.preDT >= 0 && s.preV != c.pre) || (c.postDT >= 0 && s.postV != c.post) || s.preCross != c.preCross {
				t.Fatalf("slot %+v; want pre %v at %d s (cross %v), post %v at %d s", s, c.pre, c.preDT, c.preCross, c.post, c.postDT)
			}
		})
	}
}
