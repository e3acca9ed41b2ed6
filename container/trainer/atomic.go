package trainer

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path through a temporary file in the same folder and a
// rename, so readers (and SageMaker's upload) never see a half-written file.
func WriteFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic creates path's folder, streams write into a temporary sibling and renames
// it into place. On any error the temporary file is removed and path is untouched.
func writeAtomic(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriter(f)
	if err = write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// PublishDir fills dst through build, which writes into a staging folder created inside
// dst (same file system, so renames are atomic). Only when build succeeds are the staged
// entries moved into dst. dst itself is never replaced because in SageMaker /opt/ml/model
// may be a mount point. On failure dst keeps no trace of the attempt.
func PublishDir(dst string, build func(staging string) error) (err error) {
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
	return nil
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
