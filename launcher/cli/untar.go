package cli

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// untarLimits bound what one archive may put on disk.
type untarLimits struct {
	bytes   int64 // file contents in total
	entries int
}

// untarGzip extracts a .tar.gz stream into dir (which must exist) safely: names
// are relative and stay inside dir, only regular files and folders are written
// (links, devices and FIFOs are refused), and the limits hold while streaming, so
// a hostile or corrupt archive ends in an error, never outside dir or past the
// limits. name labels errors.
func untarGzip(r io.Reader, dir, name string, lim untarLimits) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("%s: not a gzip archive: %w", name, err)
	}
	tr := tar.NewReader(zr)
	var total int64
	files := 0
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if files == 0 {
				return fmt.Errorf("%s: holds no files", name)
			}
			return readToEnd(zr, name, lim.bytes)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if n >= lim.entries {
			return fmt.Errorf("%s: more than %d entries", name, lim.entries)
		}
		if !printable(h.Name) {
			return fmt.Errorf("%s: entry %q: the name holds control or invalid characters", name, h.Name)
		}
		rel, err := safeRel(h.Name)
		if err != nil {
			return fmt.Errorf("%s: entry %q: %v", name, h.Name, err)
		}
		if rel == "" {
			continue // the archive's root folder
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if h.Size < 0 || total+h.Size > lim.bytes {
				return fmt.Errorf("%s: entry %q: the archive holds more than %d bytes", name, h.Name, lim.bytes)
			}
			total += h.Size
			files++
			if err := writeEntry(dst, tr, h.Size); err != nil {
				return fmt.Errorf("%s: entry %q: %w", name, h.Name, err)
			}
		case tar.TypeXGlobalHeader:
			continue
		default:
			return fmt.Errorf("%s: entry %q is a %s; only regular files and folders are extracted", name, h.Name, typeName(h.Typeflag))
		}
	}
}

// readToEnd reads the gzip stream past the tar's end: gzip checks its CRC and
// length only at the trailer, so a corrupt byte shows only there. What follows
// the tar is padding; more than limit bytes of it is refused.
func readToEnd(zr *gzip.Reader, name string, limit int64) error {
	n, err := io.CopyN(io.Discard, zr, limit+1)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: corrupt gzip stream: %w", name, err)
	}
	return fmt.Errorf("%s: more than %d bytes after the archive's end", name, n-1)
}

// printable reports whether an entry name is valid UTF-8 without control
// characters: names are printed, and escape sequences would drive the terminal.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// safeRel cleans an archive path and refuses absolute paths and ".." anywhere,
// so the entry cannot land outside the destination.
func safeRel(name string) (string, error) {
	name = strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(name) != "" {
		return "", errors.New("absolute path")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errors.New(`".." in the path`)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

func writeEntry(dst string, r io.Reader, size int64) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	// O_EXCL: an archive naming the same file twice does not overwrite it.
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("truncated: %d of %d bytes", n, size)
	}
	return err
}

func typeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeFifo:
		return "FIFO"
	}
	return fmt.Sprintf("entry of type %q", t)
}
