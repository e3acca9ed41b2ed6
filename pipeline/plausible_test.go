package pipeline

import (
	"context"
	"strings"
	"testing"
)

// Values beyond ±1e9 are no blood value, dose or embedding a real table holds; a 3e38
// would train (or predict) into infinities, so it is a bad cell like NaN.
func TestImplausibleValuesRejected(t *testing.T) {
	tests := []struct {
		name, row, want string
	}{
		{"pre 3e38", "1,2125-01-01T00:00:00,1,mg,3e38,7.4,0.1,0.2\n",
			`:2:28: column pre_ph: expected a finite number of magnitude at most 1e9, got "3e38"`},
		{"post -1e10 on the fast path", "1,2125-01-01T00:00:00,1,mg,7.3,-10000000000,0.1,0.2\n",
			`:2:32: column post_ph: expected a finite number of magnitude at most 1e9, got "-10000000000"`},
		{"dose", "1,2125-01-01T00:00:00,2e9,mg,7.3,7.4,0.1,0.2\n",
			`:2:23: column prescription_dose_val_rx: expected a finite number of magnitude at most 1e9, got "2e9"`},
		{"dose range", "1,2125-01-01T00:00:00,1-5e9,mg,7.3,7.4,0.1,0.2\n",
			`:2:23: column prescription_dose_val_rx: expected a dose`},
		{"embedding column", "1,2125-01-01T00:00:00,1,mg,7.3,7.4,1e12,0.2\n",
			`:2:", "column p0: expected a finite number of magnitude at most 1e9, got "1e12"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, "bad.csv", badHeader+tc.row)
			_, _, err := ReadTables(context.Background(), []string{p}, ReadOptions{})
			if err == nil {
				t.Fatal("read succeeded")
			}
			for _, w := range strings.Split(tc.want, `", "`) {
				if !strings.Contains(err.Error(), p+w) && !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), p+":2:") {
				t.Errorf("error %q does not name file:line:column", err)
			}
		})
	}
	t.Run("counted under MaxBadRows", func(t *testing.T) {
		p := writeTemp(t, "bad.csv", badHeader+goodRow+"2,2125-01-01T00:00:00,1,mg,3e38,7.4,0.1,0.2\n")
		ds, rep, err := ReadTables(context.Background(), []string{p}, ReadOptions{MaxBadRows: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Samples) != 1 || rep.RowsRejected != 1 || rep.RejectReasons[ClassNotFinite] != 1 {
			t.Errorf("%d samples, %d rejected, reasons %v; want 1, 1, {%s: 1}", len(ds.Samples), rep.RowsRejected, rep.RejectReasons, ClassNotFinite)
		}
	})
	for _, ok := range []string{"1e9", "-1e9", "999999999.5", "25000", "-1.0"} {
		if _, err := parseNumber(ok); err != nil {
			t.Errorf("parseNumber(%q): %v", ok, err)
		}
	}
}
