package pipeline

import (
	"strconv"
	"testing"
)

// groupOf builds a sample with n prescription rows whose dose is the row number.
func groupOf(subject string, n, dim int) Sample {
	s := Sample{Subject: subject, Start: "2125-01-01", Pre: []float32{1}, PreObserved: []bool{true}, Post: []float32{2}, PostObserved: []bool{true}}
	for i := 0; i < n; i++ {
		row := make([]float32, dim)
		for d := range row {
			row[d] = float32(i*10 + d)
		}
		s.Embeddings = append(s.Embeddings, row)
		s.Doses = append(s.Doses, float32(i))
		s.Units = append(s.Units, strconv.Itoa(i))
	}
	return s
}

func TestLimitRows(t *testing.T) {
	in := []Sample{groupOf("a", 5, 2), groupOf("b", 42, 2), groupOf("c", 20, 2), groupOf("d", 21, 2)}
	tests := []struct {
		policy   string
		max      int
		sizes    []int
		starts   []string
		affected int
	}{
		{"truncate", 20, []int{5, 20, 20, 20}, []string{"2125-01-01", "2125-01-01", "2125-01-01", "2125-01-01"}, 2},
		{"", 20, []int{5, 20, 20, 20}, nil, 2},
		{"split", 20, []int{5, 14, 14, 14, 20, 11, 10}, []string{"2125-01-01", "2125-01-01#1", "2125-01-01#2", "2125-01-01#3", "2125-01-01", "2125-01-01#1", "2125-01-01#2"}, 2},
		{"truncate", 0, []int{5, 42, 20, 21}, nil, 0},
		{"split", 4, []int{3, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3}, nil, 4},
	}
	for _, tc := range tests {
		out, affected, err := LimitRows(in, tc.max, tc.policy)
		if err != nil {
			t.Fatal(err)
		}
		if affected != tc.affected {
			t.Errorf("%s/%d: affected %d, want %d", tc.policy, tc.max, affected, tc.affected)
		}
		total := 0
		for i, s := range out {
			if tc.max > 0 && s.NumRx() > tc.max {
				t.Errorf("%s/%d: sample %d has %d rows", tc.policy, tc.max, i, s.NumRx())
			}
			if !rowsOf(s.Embeddings, 2) || len(s.Embeddings) != s.NumRx() || len(s.Units) != s.NumRx() {
				t.Errorf("%s/%d: sample %d arrays disagree", tc.policy, tc.max, i)
			}
			total += s.NumRx()
		}
		if tc.policy == "split" && total != 5+42+20+21 {
			t.Errorf("split lost rows: %d", total)
		}
		if len(tc.sizes) > 0 {
			if len(out) != len(tc.sizes) {
				t.Fatalf("%s/%d: %d samples, want %d", tc.policy, tc.max, len(out), len(tc.sizes))
			}
			for i, s := range out {
				if s.NumRx() != tc.sizes[i] || (tc.starts != nil && s.Start != tc.starts[i]) {
					t.Errorf("%s/%d: sample %d has %d rows start %s, want %d %v", tc.policy, tc.max, i, s.NumRx(), s.Start, tc.sizes[i], tc.starts)
				}
			}
		}
	}
	// truncation keeps the first rows in order, and the input is untouched
	out, _, _ := LimitRows(in, 20, "truncate")
	if out[1].Doses[19] != 19 || out[1].Embeddings[19][1] != 191 || in[1].NumRx() != 42 {
		t.Fatal("truncate must keep rows 0..19 and leave the input alone")
	}
	// split parts carry consecutive rows
	out, _, _ = LimitRows(in, 20, "split")
	if out[2].Doses[0] != 14 || out[3].Doses[0] != 28 || out[3].Units[13] != "41" {
		t.Fatalf("split parts are not consecutive: %v %v", out[2].Doses[0], out[3].Doses[0])
	}
	if _, _, err := LimitRows(in, 20, "drop"); err == nil {
		t.Fatal("unknown policy accepted")
	}
	if _, _, err := LimitRows(in, -1, "truncate"); err == nil {
		t.Fatal("negative max accepted")
	}
}
