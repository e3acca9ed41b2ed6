package trainer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"syscall"
	"testing"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && path != dir {
			r, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(r))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestPublishDir(t *testing.T) {
	t.Run("success replaces earlier files and folders", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "model")
		os.MkdirAll(filepath.Join(dst, "vocab"), 0o755)
		os.WriteFile(filepath.Join(dst, "vocab", "old.txt"), []byte("old"), 0o644)
		os.WriteFile(filepath.Join(dst, "model.json"), []byte("old"), 0o644)
		err := publishDir(dst, func(dir string) error {
			os.MkdirAll(filepath.Join(dir, "vocab"), 0o755)
			os.WriteFile(filepath.Join(dir, "vocab", "new.txt"), []byte("new"), 0o644)
			return os.WriteFile(filepath.Join(dir, "model.json"), []byte("new"), 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"model.json", "vocab", "vocab/new.txt"}
		if got := listDir(t, dst); !slices.Equal(got, want) {
			t.Errorf("model/ holds %v, want %v", got, want)
		}
		if b, _ := os.ReadFile(filepath.Join(dst, "model.json")); string(b) != "new" {
			t.Errorf("model.json %q", b)
		}
	})
	t.Run("full disk leaves no partial model", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "model")
		err := publishDir(dst, func(dir string) error {
			os.WriteFile(filepath.Join(dir, "weights.bin"), []byte("half"), 0o644)
			return &os.PathError{Op: "write", Path: filepath.Join(dir, "model.json"), Err: syscall.ENOSPC}
		})
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("error %v, want ENOSPC", err)
		}
		if got := listDir(t, dst); len(got) != 0 {
			t.Errorf("model/ holds %v after a failed save, want nothing", got)
		}
	})
}
