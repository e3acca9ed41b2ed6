package mimic

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// rewrite replaces the first occurrence of old in a generated .csv.gz table.
func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	s := readGz(t, path)
	if !strings.Contains(s, old) {
		t.Fatalf("%s has no %q", path, old)
	}
	writeGz(t, path, strings.Replace(s, old, new, 1))
}

// TestBadInput: each bad table fails with one line naming the file, line and column,
// or the missing table or column.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name      string
		breakIt   func(t *testing.T, dir string)
		analytes  string
		wantParts []string
	}{
		{"bad valuenum", func(t *testing.T, dir string) {
			// the first potassium row's valuenum becomes text
			p := filepath.Join(dir, "hosp/labevents.csv.gz")
			b := readGz(t, p)
			lines := strings.Split(b, "\n")
			for i, l := range lines {
				if strings.Contains(l, ",50971,") {
					f := strings.Split(l, ",")
					f[9] = "high"
					lines[i] = strings.Join(f, ",")
					writeGz(t, p, strings.Join(lines, "\n"))
					break
				}
			}
		}, "", []string{"hosp/labevents.csv.gz:", ":", "column valuenum", `"high"`}},
		{"bad itemid", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, "hosp/labevents.csv.gz"), ",50971,", ",509x1,")
		}, "", []string{"hosp/labevents.csv.gz:", "column itemid", "509x1"}},
		{"bad start", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, "hosp/prescriptions.csv.gz"), ",P1,21", ",P1,yesterday")
		}, "", []string{"hosp/prescriptions.csv.gz:2:", "column starttime", "yesterday"}},
		{"missing column", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, "hosp/labevents.csv.gz"), "valuenum", "value_num")
		}, "", []string{"hosp/labevents.csv.gz:1:1", "no column valuenum"}},
		{"missing table", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "hosp/labevents.csv.gz"))
		}, "", []string{"no labevents table"}},
		{"unknown label", func(t *testing.T, dir string) {}, "Potassium,Unobtainium", []string{`analyte "Unobtainium"`, "d_labitems"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := synthDir(t, SynthOptions{Subjects: 5, Seed: 1})
			c.breakIt(t, dir)
			_, _, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{Pairing: pipeline.Pairing{Analytes: c.analytes}})
			if err == nil {
				t.Fatal("read succeeded; want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("error spans lines: %q", msg)
			}
			for _, p := range c.wantParts {
				if !strings.Contains(msg, p) {
					t.Fatalf("error %q lacks %q", msg, p)
				}
			}
		})
	}
}

func readGz(t *testing.T, p string) string {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeGz(t *testing.T, p, s string) {
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(out)
	zw.Write([]byte(s))
	zw.Close()
	out.Close()
}
