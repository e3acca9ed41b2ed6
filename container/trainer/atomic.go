package trainer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// publishDir fills dst through build, which writes into a staging folder created inside
// dst (same file system, so renames are atomic). Only when build succeeds are the staged
// entries moved into dst. dst itself is never replaced because in SageMaker /opt/ml/model
// may be a mount point. On failure dst keeps no trace of the attempt.
func publishDir(dst string, build func(staging string) error) (err error) {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	staging, err := os.MkdirTemp(dst, ".staging-")
	if err != nil {
		return fmt.Errorf("create staging folder in %s: %w", dst, err)
	}
	defer os.RemoveAll(staging)
	if err := build(staging); err != nil {
		return err
	}
	entries, err := os.ReadDir(staging)
	if err != nil {
		return fmt.Errorf("list %s: %w", staging, err)
	}
	var moved []string
	for _, e := range entries {
		target := filepath.Join(dst, e.Name())
		if e.IsDir() {
			// Rename does not replace a non-empty folder left by an earlier local run.
			if rmErr := os.RemoveAll(target); rmErr != nil {
				err = rmErr
			}
		}
		if err == nil {
			err = os.Rename(filepath.Join(staging, e.Name()), target)
		}
		if err != nil {
			for _, m := range moved {
				os.RemoveAll(m)
			}
			return fmt.Errorf("publish %s: %w", target, err)
		}
		moved = append(moved, target)
	}
	return atomicfile.SyncDir(dst)
}

// errWriter wraps a writer and remembers the first error so CSV and text writers can be
// checked once at the end.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
