package pipeline

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzCSVReaderLimits checks the record limits against encoding/csv: ours stops with a
// *LimitError exactly when a record it reached is longer or wider than allowed, and
// reads like encoding/csv otherwise (FuzzCSVReader covers that part).
func FuzzCSVReaderLimits(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n",
		"a,b,c,d,e\n",
		strings.Repeat("x", 70) + "\n1\n",
		"a\n\"" + strings.Repeat("y\n", 40) + "\"\n",
		"a,\"b\",\"c\",d,\"e\"\n",
		"1,2\r\n" + strings.Repeat("z", 63) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	const maxLine, maxFields = 64, 4
	f.Fuzz(func(t *testing.T, data []byte) {
		std := csv.NewReader(bytes.NewReader(data))
		std.FieldsPerRecord = -1
		var sizes, widths []int // raw bytes and fields of each record encoding/csv reads
		for {
			before := std.InputOffset()
			rec, err := std.Read()
			if err != nil {
				break
			}
			sizes = append(sizes, int(std.InputOffset()-before))
			widths = append(widths, len(rec))
		}
		ours := newCSVReader(bytes.NewReader(data))
		ours.setLimits(Limits{LineBytes: maxLine, Fields: maxFields})
		n := 0
		for ; ; n++ {
			_, err := ours.Read()
			if err == io.EOF {
				break
			}
			var le *LimitError
			if errors.As(err, &le) {
				if n >= len(sizes) {
					// encoding/csv failed on this record; a record over the limit may
					// also be malformed
					return
				}
				over := sizes[n] > maxLine
				if le.Env == EnvMaxFields {
					over = widths[n] > maxFields
				}
				if !over {
					t.Fatalf("record %d: %v, but it has %d bytes and %d fields", n+1, err, sizes[n], widths[n])
				}
				return
			}
			if err != nil {
				return
			}
		}
		for i := range widths {
			// a record wider than the limit that ours read is a missed limit (sizes
			// include skipped blank lines, so they cannot be checked this way)
			if widths[i] > maxFields {
				t.Fatalf("record %d with %d fields read without a limit error", i+1, widths[i])
			}
		}
	})
}

// FuzzParseS3URI: an accepted URI splits into a bucket and a key that rebuild it, with
// no "." or ".." segment.
func FuzzParseS3URI(f *testing.F) {
	for _, s := range []string{"s3://b/k", "s3://b", "s3://b/a/../c", "s3:///x", "s3://b/./x", "s3://b//x/", "http://b/k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		b, k, err := ParseS3URI(uri)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(uri, "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if b == "" || strings.Contains(b, "/") || (uri != "s3://"+b+"/"+k && uri != "s3://"+b) {
			t.Fatalf("%q -> %q, %q", uri, b, k)
		}
		for _, seg := range strings.Split(k, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q accepted with segment %q", uri, seg)
			}
		}
	})
}

// FuzzLimitsFromEnv: any value either sets a positive limit within range or fails
// naming the variable.
func FuzzLimitsFromEnv(f *testing.F) {
	for _, s := range []string{"4096", "64MiB", "8GiB", "0", "-1", "1e9", " 12 KiB", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, name := range []string{EnvMaxFileBytes, EnvMaxTotalBytes, EnvMaxLineBytes, EnvMaxFields, EnvMaxRows} {
			l, err := LimitsFromEnv(func(k string) string {
				if k == name {
					return v
				}
				return ""
			})
			if err != nil {
				if !strings.HasPrefix(err.Error(), name+"=") {
					t.Fatalf("%s=%q: error %q does not name the variable", name, v, err)
				}
				continue
			}
			if l.FileBytes <= 0 || l.TotalBytes <= 0 || l.LineBytes <= 0 || l.Fields <= 0 || l.Rows <= 0 || l.LineBytes > 1<<30 || l.Fields > 1<<24 {
				t.Fatalf("%s=%q: %+v", name, v, l)
			}
		}
	})
}
