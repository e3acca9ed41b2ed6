package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// readWithin runs ReadTables and fails the test if it has not returned after d: the
// inputs here used to hang it or run it out of memory.
func readWithin(t *testing.T, d time.Duration, inputs []string, opt ReadOptions) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, _, err := ReadTables(context.Background(), inputs, opt)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("ReadTables(%v) still running after %v", inputs, d)
		return nil
	}
}

func TestReadLimits(t *testing.T) {
	rows := strings.Repeat(goodRow, 40) // 40 x 43 bytes
	long := strings.Repeat("0", DefaultMaxLineBytes+10)
	nuls := strings.Repeat("\x00", DefaultMaxLineBytes+10)
	tests := []struct {
		name  string
		files map[string][]byte
		opt   ReadOptions
		want  string // the error, after the directory prefix
	}{
		{"line over the default, no newline", map[string][]byte{"a.csv": []byte(badHeader + long)}, ReadOptions{},
			"a.csv:2:1: more than 1048576 bytes in one record; expected a table within the limit (set BLUEBLOOD_MAX_LINE_BYTES to raise it)"},
		{"gzipped line of NULs", map[string][]byte{"a.csv.gz": gzipBytes(t, []byte(badHeader+nuls+"\n"))}, ReadOptions{MaxBadRows: 1000},
			"a.csv.gz:2:1: more than 1048576 bytes in one record"},
		{"header line over the limit", map[string][]byte{"a.csv": []byte(long + "\n")}, ReadOptions{Limits: Limits{LineBytes: 1000}},
			"a.csv:1:1: more than 1000 bytes in one record"},
		{"quoted record spanning lines", map[string][]byte{"a.csv": []byte(badHeader + "1,\"" + strings.Repeat("x\n", 600))}, ReadOptions{Limits: Limits{LineBytes: 1000}},
			"a.csv:2:1: more than 1000 bytes in one record"},
		{"too many fields", map[string][]byte{"a.csv": []byte(badHeader + strings.Repeat(",", DefaultMaxFields+1) + "\n")}, ReadOptions{MaxBadRows: 10},
			"a.csv:2:1: more than 16384 fields in one record; expected a table within the limit (set BLUEBLOOD_MAX_FIELDS to raise it)"},
		{"too many quoted fields", map[string][]byte{"a.csv": []byte(badHeader + strings.Repeat(`"",`, 20) + "\n")}, ReadOptions{Limits: Limits{Fields: 10}},
			"a.csv:2:1: more than 10 fields in one record"},
		{"file over its byte limit", map[string][]byte{"a.csv": []byte(badHeader + rows)}, ReadOptions{Limits: Limits{FileBytes: 1000}},
			"a.csv: more than 1000 decompressed bytes in one file; expected a table within the limit (set BLUEBLOOD_MAX_FILE_BYTES to raise it)"},
		{"gzip bomb over the file limit", map[string][]byte{"a.csv.gz": gzipBytes(t, []byte(badHeader+strings.Repeat(goodRow, 100000)))}, ReadOptions{Limits: Limits{FileBytes: 1 << 20}},
			"a.csv.gz: more than 1048576 decompressed bytes in one file; expected a table within the limit (set BLUEBLOOD_MAX_FILE_BYTES to raise it)"},
		{"channel over its total", map[string][]byte{"a.csv": []byte(badHeader + rows), "b.csv": []byte(badHeader + rows)}, ReadOptions{Limits: Limits{TotalBytes: 2500}},
			"b.csv: more than 2500 decompressed bytes over the tables of one read (channel); expected a table within the limit (set BLUEBLOOD_MAX_CHANNEL_BYTES to raise it)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := readWithin(t, 20*time.Second, []string{dir}, tc.opt)
			if err == nil {
				t.Fatal("read succeeded, want a limit error")
			}
			var le *LimitError
			if !errors.As(err, &le) {
				t.Errorf("error %q is not a *LimitError", err)
			}
			if !strings.HasPrefix(err.Error(), filepath.Join(dir, tc.want)) {
				t.Errorf("error %q, want it to start with %q", err, filepath.Join(dir, tc.want))
			}
		})
	}
}

func TestReadLimitsExactFit(t *testing.T) {
	content := badHeader + goodRow
	p := writeTemp(t, "a.csv", content)
	n := int64(len(content))
	if _, _, err := ReadTables(context.Background(), []string{p}, ReadOptions{Limits: Limits{FileBytes: n, TotalBytes: n, LineBytes: len(badHeader) - 1, Fields: 8}}); err != nil {
		t.Fatalf("a table exactly at its limits: %v", err)
	}
	if _, _, err := ReadTables(context.Background(), []string{p}, ReadOptions{Limits: Limits{FileBytes: n - 1}}); err == nil {
		t.Fatal("a table one byte over FileBytes was read")
	}
	if _, _, err := ReadTables(context.Background(), []string{p}, ReadOptions{Limits: Limits{Fields: 7}}); err == nil {
		t.Fatal("a table one field over Fields was read")
	}
}

func TestReadRefusesSpecialFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs or /dev/zero")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(t.TempDir(), "zero.csv")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{fifo, fifo + ": is a named pipe (FIFO); expected a regular file"},
		{dir, fifo + ": is a named pipe (FIFO); expected a regular file"},
		{zero, zero + ": is a device; expected a regular file"},
	} {
		err := readWithin(t, 10*time.Second, []string{tc.in}, ReadOptions{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("ReadTables(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
	// a prepared dataset's manifest is read the same way
	prep := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(prep, manifestName)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := IsPrepared(context.Background(), prep); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is a device") {
			t.Errorf("IsPrepared with manifest -> /dev/zero: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("IsPrepared with manifest -> /dev/zero still running after 10s")
	}
}

func TestLimitsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	got, err := LimitsFromEnv(env(nil))
	if err != nil || got != (Limits{}).withDefaults() {
		t.Fatalf("no variables: %+v, %v; want the defaults", got, err)
	}
	got, err = LimitsFromEnv(env(map[string]string{EnvMaxFileBytes: "64MiB", EnvMaxTotalBytes: "8GiB", EnvMaxLineBytes: " 4096 ", EnvMaxFields: "300", EnvMaxRows: "5000"}))
	want := Limits{FileBytes: 64 << 20, TotalBytes: 8 << 30, LineBytes: 4096, Fields: 300, Rows: 5000}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []map[string]string{
		{EnvMaxFileBytes: "lots"}, {EnvMaxLineBytes: "0"}, {EnvMaxFields: "-3"}, {EnvMaxTotalBytes: "99999999999GiB"}, {EnvMaxLineBytes: "2GiB"}, {EnvMaxRows: "1.5"},
	} {
		_, err := LimitsFromEnv(env(bad))
		for k := range bad {
			if err == nil || !strings.HasPrefix(err.Error(), k+"=") {
				t.Errorf("%v: error %v, want one naming %s", bad, err, k)
			}
		}
	}
}

// Rows bound memory where bytes cannot: a small file of tiny valid rows without ids
// makes one sample per row, about 60 times its size in memory.
func TestReadRowLimit(t *testing.T) {
	dir := t.TempDir()
	rows := strings.Repeat(goodRow, 30)
	// b.csv ends in a blank line: a table given twice would be refused (W2)
	for name, tail := range map[string]string{"a.csv": "", "b.csv": "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(badHeader+rows+tail), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := ReadTables(context.Background(), []string{dir}, ReadOptions{Limits: Limits{Rows: 60}}); err != nil {
		t.Fatalf("60 rows within a limit of 60: %v", err)
	}
	_, _, err := ReadTables(context.Background(), []string{dir}, ReadOptions{Limits: Limits{Rows: 50}})
	want := filepath.Join(dir, "b.csv") + ":22:1: more than 50 rows over the tables of one read (channel); expected a table within the limit (set BLUEBLOOD_MAX_ROWS to raise it)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %q", err, want)
	}
}

// Units are interned: a unit that is a substring of its row would keep the whole line
// alive in memory for as long as the sample lives.
func TestUnitsInterned(t *testing.T) {
	p := writeTemp(t, "a.csv", badHeader+"1,2125-01-01T00:00:00,1,mg,7.3,7.4,0.1,0.2\n2,2125-01-01T00:00:00,1,mg,7.3,7.4,0.1,0.2\n")
	ds, _, err := ReadTables(context.Background(), []string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := ds.Samples[0].Units[0], ds.Samples[1].Units[0]; a != "mg" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("units %q and %q are separate strings (each pinning its row's text)", a, b)
	}
}
