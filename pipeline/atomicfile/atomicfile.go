// Package atomicfile writes files so that a reader, or a restart after a crash, finds the
// old content or the new one, never a part: the data goes to a temporary file in the same
// folder, is flushed to disk, renamed over the target, and the folder is flushed so the
// rename itself survives a power loss.
package atomicfile

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// Perm is the mode of every file written: artifacts others read (serving, a mounted
// folder, model.tar.gz), while os.CreateTemp alone would make them owner-only.
const Perm = 0o644

// WriteFile writes data to path atomically; see Write.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteGzipByName is Write, gzip-compressing what write writes when path ends in .gz
// (tables written for ReadTables, which reads either).
func WriteGzipByName(path string, write func(w io.Writer) error) error {
	if !strings.HasSuffix(path, ".gz") {
		return Write(path, write)
	}
	return Write(path, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		if err := write(zw); err != nil {
			return err
		}
		return zw.Close()
	})
}

// Write creates path's folder, streams write into a temporary sibling and renames it
// into place, syncing the file and then the folder. On any error path is untouched and
// the temporary file is gone.
func Write(path string, write func(w io.Writer) error) (err error) {
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
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriter(f)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Chmod(Perm); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir flushes a folder's entries (names created, renamed or removed) to disk. Where
// the system cannot sync a folder (Windows; file systems that answer EINVAL or ENOTSUP)
// there is nothing more to make durable, so that is not an error.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
