package atomicfile

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteGzipByNameCompressesOnlyGz(t *testing.T) {
	dir := t.TempDir()
	const content = "a,b\n1,2\n"
	write := func(w io.Writer) error { _, err := io.WriteString(w, content); return err }
	plain, gz := filepath.Join(dir, "t.csv"), filepath.Join(dir, "t.csv.gz")
	for _, p := range []string{plain, gz} {
		if err := WriteGzipByName(p, write); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := os.ReadFile(plain); err != nil || string(got) != content {
		t.Errorf("%s holds %q (%v), want %q", plain, got, err, content)
	}
	f, err := os.Open(gz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s is not gzip: %v", gz, err)
	}
	if got, err := io.ReadAll(zr); err != nil || string(got) != content {
		t.Errorf("%s decompresses to %q (%v), want %q", gz, got, err, content)
	}
}
