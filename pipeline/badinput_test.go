package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	badHeader = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1\n"
	goodRow   = "1,2125-01-01T00:00:00,1,mg,7.3,7.4,0.1,0.2\n"
)

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name    string
		content string
		opt     ReadOptions
		want    []string // substrings after the "file:" prefix
	}{
		{"malformed csv", badHeader + goodRow + "2,2125-01-01T00:00:00,1,m\"g,7.3,7.4,0.1,0.2\n", ReadOptions{},
			[]string{":3:26: malformed csv", "bare \""}},
		{"wrong column count", badHeader + goodRow + "2,2125-01-01T00:00:00,1,mg,7.3\n", ReadOptions{},
			[]string{":3:1: expected 8 columns as in the header, got 5"}},
		{"not a number", badHeader + "1,2125-01-01T00:00:00,1,mg,abc,7.4,0.1,0.2\n", ReadOptions{},
			[]string{":2:28: column pre_ph: expected a number, got \"abc\""}},
		{"nan", badHeader + "1,2125-01-01T00:00:00,1,mg,7.3,NaN,0.1,0.2\n", ReadOptions{},
			[]string{":2:32: column post_ph: expected a finite number, got \"NaN\""}},
		{"inf", badHeader + "1,2125-01-01T00:00:00,1,mg,7.3,7.4,0.1,-Inf\n", ReadOptions{},
			[]string{":2:", "column p1: expected a finite number, got \"-Inf\""}},
		{"out of range", badHeader + "1,2125-01-01T00:00:00,1e999,mg,7.3,7.4,0.1,0.2\n", ReadOptions{},
			[]string{":2:23: column prescription_dose_val_rx: expected a finite number, got \"1e999\" (out of range)"}},
		{"bad dose text", badHeader + "1,2125-01-01T00:00:00,lots,mg,7.3,7.4,0.1,0.2\n", ReadOptions{},
			[]string{":2:23: column prescription_dose_val_rx: expected a dose (a number or a range like \"325-650\"), got \"lots\""}},
		{"embedding wrong length", "subject_id,prescription_start,prescription_dose_val_rx,pre_ph,post_ph,rx_embedding\n" +
			"1,2125-01-01,1,7,7,\"[1 2 3]\"\n1,2125-01-01,1,7,7,\"[1 2]\"\n", ReadOptions{},
			[]string{":3:", "column rx_embedding: expected an embedding of 3 values, got 2"}},
		{"embedding wrong length vs option", "subject_id,prescription_start,prescription_dose_val_rx,pre_ph,post_ph,rx_embedding\n" +
			"1,2125-01-01,1,7,7,\"[1 2 3]\"\n", ReadOptions{EmbeddingDim: 4},
			[]string{":2:", "expected an embedding of 4 values, got 3"}},
		{"embedding not numbers", "subject_id,prescription_start,prescription_dose_val_rx,pre_ph,post_ph,rx_embedding\n" +
			"1,2125-01-01,1,7,7,\"[1 x 3]\"\n", ReadOptions{},
			[]string{":2:", "embedding value 1: expected a number, got \"x\""}},
		{"duplicate header", "subject_id,prescription_start,prescription_dose_val_rx,pre_ph,post_ph,pre_ph,P0\n1,2125-01-01,1,7,7,7,0\n", ReadOptions{},
			[]string{":1:6: duplicate column \"pre_ph\" (first at column 4)"}},
		{"empty file", "", ReadOptions{}, []string{":1:1: empty file, expected a header line"}},
		{"bad time", badHeader + "1,yesterday,1,mg,7.3,7.4,0.1,0.2\n", ReadOptions{},
			[]string{":2:3: column prescription_start: expected a time like 2125-10-05T00:00:00, got \"yesterday\""}},
		{"missing subject", badHeader + ",2125-01-01T00:00:00,1,mg,7.3,7.4,0.1,0.2\n", ReadOptions{},
			[]string{":2:1: column subject_id: expected a subject id"}},
		{"pre without post", "subject_id,prescription_start,prescription_dose_val_rx,pre_ph,pre_po2,post_ph,P0\n", ReadOptions{},
			[]string{":1:5: column pre_po2 has no matching post_po2"}},
		{"embedding columns with a gap", "prescription_dose_val_rx,pre_ph,post_ph,P0,P2\n", ReadOptions{},
			[]string{":1:1: embedding columns P0..P1 expected, P1 missing"}},
		{"unrecognised table", "a,b,c\n1,2,3\n", ReadOptions{}, []string{":1:1: unrecognised table"}},
		{"no embedding", "subject_id,prescription_start,prescription_dose_val_rx,pre_ph,post_ph\n", ReadOptions{},
			[]string{":1:1: expected embedding columns P0..Pn"}},
	}
	oneLine := regexp.MustCompile(`^[^\n]*bad\.csv:\d+:\d+: [^\n]+$`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, "bad.csv", tc.content)
			_, _, err := ReadTables(context.Background(), []string{p}, tc.opt)
			if err == nil {
				t.Fatal("read succeeded, want an error")
			}
			msg := err.Error()
			if !oneLine.MatchString(msg) {
				t.Fatalf("error %q is not one line naming file:line:column", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, p+w) && !strings.Contains(msg, w) {
					t.Fatalf("error %q does not contain %q", msg, w)
				}
			}
			if !strings.Contains(msg, p+tc.want[0]) {
				t.Fatalf("error %q does not start its location with %q", msg, p+tc.want[0])
			}
		})
	}
}

func TestHeaderOnlyHasNoSamples(t *testing.T) {
	p := writeTemp(t, "empty.csv", badHeader)
	_, _, err := ReadTables(context.Background(), []string{p}, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "no samples") {
		t.Fatalf("err = %v, want no samples", err)
	}
}

func TestMaxBadRows(t *testing.T) {
	content := badHeader + goodRow +
		"1,2125-01-01T00:00:00,1,mg,abc,7.4,0.1,0.2\n" +
		"2,2125-01-02T00:00:00,1,mg,7.3\n" +
		"3,2125-01-03T00:00:00,2,mg,7.1,7.2,0.3,0.4\n"
	p := writeTemp(t, "bad.csv", content)
	tests := []struct {
		max     int
		wantErr string
	}{
		{0, "bad.csv:3:28: column pre_ph"},
		{1, "bad.csv:4:1: expected 8 columns as in the header, got 5 (more than 1 bad rows)"},
		{2, ""},
		{10, ""},
	}
	for _, tc := range tests {
		ds, rep, err := ReadTables(context.Background(), []string{p}, ReadOptions{MaxBadRows: tc.max})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("max %d: err = %v, want %q", tc.max, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("max %d: %v", tc.max, err)
		}
		if rep.RowsRead != 4 || rep.RowsRejected != 2 || rep.RejectReasons[ClassNotNumber] != 1 || rep.RejectReasons[ClassColumnCount] != 1 || len(rep.Rejected) != 2 {
			t.Fatalf("max %d: report %+v", tc.max, rep)
		}
		if len(ds.Samples) != 2 || ds.Samples[0].Subject != "1" || ds.Samples[1].Subject != "3" {
			t.Fatalf("max %d: samples %d", tc.max, len(ds.Samples))
		}
		var sb strings.Builder
		rep.WriteText(&sb)
		if !strings.Contains(sb.String(), "rows rejected:       2") || !strings.Contains(sb.String(), "bad.csv:3:28") {
			t.Fatalf("report text lacks the rejections:\n%s", sb.String())
		}
	}
}

func TestPrepareFailureLeavesNothing(t *testing.T) {
	root := t.TempDir()
	bad := writeTemp(t, "bad.csv", badHeader+"1,2125-01-01T00:00:00,1,mg,abc,7.4,0.1,0.2\n")
	out := filepath.Join(root, "out")
	if _, err := Prepare(context.Background(), PrepareOptions{Inputs: []string{bad}, Output: out}); err == nil {
		t.Fatal("prepare of a bad table succeeded")
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 0 {
		t.Fatalf("failed prepare left %d entries in the output's parent (%s...)", len(ents), ents[0].Name())
	}
	// an existing directory that is not ours is never replaced
	foreign := filepath.Join(root, "foreign")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "keep.txt"), []byte("x"), 0o644)
	_, err := Prepare(context.Background(), PrepareOptions{Inputs: []string{"testdata/synthetic_small.csv"}, Output: foreign})
	if err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Fatalf("err = %v, want refusing to replace", err)
	}
	if _, err := os.Stat(filepath.Join(foreign, "keep.txt")); err != nil {
		t.Fatalf("foreign file lost: %v", err)
	}
	ents, _ = os.ReadDir(root)
	if len(ents) != 1 {
		t.Fatalf("refused prepare left temporary entries: %d", len(ents))
	}
}

// TestTruncatedGzip: a .gz cut short fails with the file and line where the stream broke
// and says why, instead of parsing the partial last line as a short row; --max-bad-rows
// does not skip it.
func TestTruncatedGzip(t *testing.T) {
	var raw bytes.Buffer
	raw.WriteString(badHeader)
	for i := range 3000 {
		fmt.Fprintf(&raw, "%d,2125-01-%02dT00:00:00,%d,mg,7.%d,7.%d,0.%d,0.%d\n", i, i%28+1, i%7+1, i%10, (i+3)%10, i%9, i%5)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	p := filepath.Join(t.TempDir(), "bad.csv.gz")
	if err := os.WriteFile(p, gz.Bytes()[:gz.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := ReadTables(context.Background(), []string{p}, ReadOptions{MaxBadRows: 100})
	if err == nil {
		t.Fatal("read of a truncated .gz succeeded")
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(p) + `:\d+:1: corrupt or truncated gzip data \(unexpected EOF\); expected a complete \.gz file$`).MatchString(err.Error()) {
		t.Fatalf("error %q, want file:line:1 and a truncated gzip reason", err)
	}
}
