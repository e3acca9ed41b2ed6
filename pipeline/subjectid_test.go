package pipeline

import (
	"context"
	"testing"
)

// W8: a subject written 10000 in some rows and 10000.0 in others (a pandas
// float export) is one subject, so it cannot sit in two folds.
func TestSubjectIDWholeFloatIsOneSubject(t *testing.T) {
	p := writeTemp(t, "t.csv", badHeader+
		"10000,2125-01-01T00:00:00,1,mg,7.3,7.4,0.1,0.2\n"+
		"10000.0,2125-01-02T00:00:00,1,mg,7.3,7.4,0.1,0.2\n"+
		"10000.00,2125-01-02T00:00:00,2,mg,7.3,7.4,0.1,0.2\n"+
		"10000.5,2125-01-03T00:00:00,1,mg,7.3,7.4,0.1,0.2\n"+
		"A1.0,2125-01-03T00:00:00,1,mg,7.3,7.4,0.1,0.2\n")
	ds, rep, err := ReadTables(context.Background(), []string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ds.Samples {
		got = append(got, s.Subject+"/"+s.Start)
	}
	want := []string{"10000/2125-01-01", "10000/2125-01-02", "10000.5/2125-01-03", "A1.0/2125-01-03"}
	if len(got) != len(want) {
		t.Fatalf("samples %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("samples %v, want %v", got, want)
		}
	}
	if rep.Subjects != 3 {
		t.Errorf("subjects %d, want 3 (10000, 10000.5, A1.0)", rep.Subjects)
	}
}
