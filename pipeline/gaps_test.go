package pipeline

import (
	"context"
	"strings"
	"testing"
)

// gapTable: three groups; the post test of subject 1 at 2125-10-20 serves two
// prescription dates; group 3 has both tests within 24 h.
const gapTable = `subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_charttime,pre_ph,post_charttime,post_ph,P0
1,2125-10-05T00:00:00,1,mg,2125-10-04T14:00:00,7.3,2125-10-20T00:00:00,7.31,0.1
1,2125-10-06T00:00:00,1,mg,2125-10-04T14:00:00,7.3,2125-10-20T00:00:00,7.32,0.2
2,2125-10-07T00:00:00,1,mg,2125-10-06T22:00:00,7.4,2125-10-07T05:00:00,7.35,0.3
`

func TestGapReportAndMaxGap(t *testing.T) {
	ds, rep, err := ReadTable(context.Background(), "g.csv", strings.NewReader(gapTable), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Gaps
	if g == nil || g.Groups != 3 {
		t.Fatalf("gaps %+v, want 3 groups with both chart times", g)
	}
	// pre gaps 10, 34, 2 h; post gaps 360, 336, 5 h
	if g.Pre.Median != 10 || g.Pre.Max != 34 || g.Post.Median != 336 || g.Post.Max != 360 {
		t.Errorf("pre %+v post %+v; want pre median 10 max 34, post median 336 max 360", g.Pre, g.Post)
	}
	if g.BothWithin24h != 1 || g.MaxGroupsPerPostTest != 2 {
		t.Errorf("both within 24 h: %d (want 1); most groups sharing one post test: %d (want 2)", g.BothWithin24h, g.MaxGroupsPerPostTest)
	}
	var b strings.Builder
	rep.WriteText(&b)
	if !strings.Contains(b.String(), "1 of 3 groups have both tests within 24 h") {
		t.Errorf("report text lacks the gap summary:\n%s", b.String())
	}
	if len(ds.Samples) != 3 {
		t.Fatalf("%d samples without a limit", len(ds.Samples))
	}

	ds, rep, err = ReadTable(context.Background(), "g.csv", strings.NewReader(gapTable), ReadOptions{MaxGapHours: 24})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Samples) != 1 || ds.Samples[0].Subject != "2" || rep.Gaps.DroppedOverMax != 2 || rep.Groups != 1 {
		t.Fatalf("max gap 24 h kept %d samples (report: %d dropped, %d groups); want only subject 2's group", len(ds.Samples), rep.Gaps.DroppedOverMax, rep.Groups)
	}
}
