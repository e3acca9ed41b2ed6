// Package golden compares what a test produces with files committed under testdata/.
// Tests importing it accept `go test -update`, which rewrites those files with the output
// of this run instead of comparing; review the diff before committing it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

var update = flag.Bool("update", false, "rewrite the golden files and fixtures under testdata/ with what the tests produce")

// Updating reports whether this run rewrites golden files (-update).
func Updating() bool { return *update }

// Write stores data at path, for a fixture the test writes in its own form (compressed,
// say) when Updating.
func Write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := atomicfile.WriteFile(path, data); err != nil {
		t.Fatal(err)
	}
}

// Check compares got with the file at path, rewriting the file first when Updating, and
// reports a difference as a test error; it returns whether they matched.
func Check(t testing.TB, path string, got []byte) bool {
	t.Helper()
	if *update {
		Write(t, path, got)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update accepts it):\n%s", path, got)
		return false
	}
	return true
}
