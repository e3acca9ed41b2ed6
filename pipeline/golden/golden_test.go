package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder stands in for a test so Check's failures can be observed.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; panic(r) }
func (r *recorder) Fatal(...any)          { r.failed = true; panic(r) }
func check(path string, got []byte) (ok, failed bool) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		failed = r.failed
	}()
	return Check(r, path, got), false
}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if _, failed := check(path, []byte("a")); !failed {
		t.Error("a missing golden file passed")
	}
	os.WriteFile(path, []byte("a"), 0o644)
	if ok, failed := check(path, []byte("a")); !ok || failed {
		t.Error("matching output failed")
	}
	if ok, failed := check(path, []byte("b")); ok || !failed {
		t.Error("different output passed")
	}
	*update = true
	defer func() { *update = false }()
	if ok, failed := check(path, []byte("b")); !ok || failed {
		t.Error("-update did not accept the new output")
	}
	if got, _ := os.ReadFile(path); string(got) != "b" {
		t.Errorf("-update left %q", got)
	}
}
