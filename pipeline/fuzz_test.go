package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzCSVReader checks the fast CSV reader against encoding/csv: whenever encoding/csv
// reads every record, ours must return the same records with the same positions, and
// whenever encoding/csv fails, ours must fail too.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n",
		"subject_id,prescription_start,pre_ph\n10013,2125-10-05T00:00:00,7.3\n",
		"x,rx_embedding\n1,\"[ 0.35 -0.12\n  1e-3 4 ]\"\n",
		"a,\"b \"\"q\"\"\",c\r\n\r\n1,,3",
		"a,b\n1,2\"x\n",
		"\"unterminated\n",
		"a\r\nb\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		std := csv.NewReader(bytes.NewReader(data))
		std.FieldsPerRecord = -1
		var want [][]string
		var wantPos [][2]int
		stdErr := error(nil)
		for {
			rec, err := std.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				stdErr = err
				break
			}
			want = append(want, rec)
			l, c := std.FieldPos(len(rec) - 1)
			wantPos = append(wantPos, [2]int{l, c})
		}
		ours := newCSVReader(bytes.NewReader(data))
		var got [][]string
		ourErr := error(nil)
		for {
			rec, err := ours.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				ourErr = err
				break
			}
			got = append(got, append([]string(nil), rec...))
			if stdErr == nil && len(got) <= len(wantPos) {
				l, c := ours.FieldPos(len(rec) - 1)
				if [2]int{l, c} != wantPos[len(got)-1] {
					t.Fatalf("record %d last field at %d:%d, encoding/csv says %v", len(got), l, c, wantPos[len(got)-1])
				}
			}
		}
		if stdErr != nil {
			if ourErr == nil {
				var pe *csv.ParseError
				if errors.As(stdErr, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
					return
				}
				t.Fatalf("encoding/csv fails (%v) but ours read %d records", stdErr, len(got))
			}
			return
		}
		if ourErr != nil {
			t.Fatalf("ours fails (%v) where encoding/csv reads %d records", ourErr, len(want))
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, encoding/csv %d", len(got), len(want))
		}
		for i := range want {
			if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") || len(got[i]) != len(want[i]) {
				t.Fatalf("record %d = %q, encoding/csv %q", i, got[i], want[i])
			}
		}
	})
}

// FuzzParseEmbedding checks that the embedding parser never panics, returns only finite
// values and round-trips what it accepts.
func FuzzParseEmbedding(f *testing.F) {
	for _, s := range []string{"[ 0.35 -0.12 1e-3 4 ]", "[0.1, 0.2,0.3]", "1 2 3", "[]", "[1 2", "[nan]", "[ 1.5E+02\n -2.5e-01 ]", "[1e39]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseEmbedding(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(v) == 0 {
			t.Fatal("accepted an embedding without values")
		}
		parts := make([]string, len(v))
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("accepted non-finite %v from %q", x, s)
			}
			parts[i] = formatF32(x)
		}
		back, err := ParseEmbedding("[" + strings.Join(parts, " ") + "]")
		if err != nil || !equalF32(back, v, nil) {
			t.Fatalf("round trip of %v: %v, %v", v, back, err)
		}
	})
}

// FuzzReadTable feeds arbitrary bytes after a valid final-table header: reading must
// never panic, and any error must be one line naming the file, line and column.
func FuzzReadTable(f *testing.F) {
	f.Add([]byte(goodRow))
	f.Add([]byte("1,2125-01-01T00:00:00,1,mg,abc,7.4,0.1,0.2\n"))
	f.Add([]byte("1,2125-01-01T00:00:00,325-650,mg,-1.0,,1e-3,\"2\"\n"))
	f.Add([]byte(",,,,,,,\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		p := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(p, append([]byte(badHeader), body...), 0o644); err != nil {
			t.Fatal(err)
		}
		ds, rep, err := ReadTables(context.Background(), []string{p}, ReadOptions{MaxBadRows: 3})
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "\n") || !(strings.HasPrefix(msg, p+":") || msg == "no samples read from the inputs") {
				t.Fatalf("error %q is not one line naming the file", msg)
			}
			return
		}
		if rep.RowsRejected > 3 {
			t.Fatalf("rejected %d rows with a budget of 3", rep.RowsRejected)
		}
		for _, s := range ds.Samples {
			if !rowsOf(s.Embeddings, 2) || len(s.Embeddings) != s.NumRx() || len(s.Pre) != 1 {
				t.Fatalf("malformed sample %+v", s)
			}
		}
	})
}

func formatF32(x float32) string { return strconv.FormatFloat(float64(x), 'g', -1, 32) }

// FuzzFastFloat checks the float fast path against strconv.ParseFloat.
func FuzzFastFloat(f *testing.F) {
	for _, s := range []string{"7.38", "-1.0", "360.34999999999997", "0.000001", "9007199254740993", "1e5", ".5", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := fastFloat(s)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("fastFloat(%q) = %v, strconv.ParseFloat = %v, %v", s, got, want, err)
		}
	})
}
