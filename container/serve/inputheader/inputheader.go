// Package inputheader keeps the header line of the table a model was trained on beside
// the model, so the server can read CSV rows sent without one (batch transform with
// SplitType Line, the Python SDK's CSVSerializer): rows of the training file with its
// header line removed then mean what they meant in training.
package inputheader

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is the header's name in the model folder: one CSV line.
const File = "input-header.csv"

// maxLine bounds the stored header line read back: the original tables' widest header
// (128 embedding columns and 25 analytes) is under 2 kB.
const maxLine = 1 << 20

// Write stores header (the training tables' shared header line, pipeline.Dataset.Header)
// in modelDir. It stores nothing, and reports false, when header is nil (prepared
// arrays, or tables whose headers differ); it fails only when writing fails.
func Write(modelDir string, header []string) (bool, error) {
	if header == nil {
		return false, nil
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(header)
	w.Flush()
	if err := os.WriteFile(filepath.Join(modelDir, File), []byte(b.String()), 0o644); err != nil {
		return false, fmt.Errorf("write %s: %w", File, err)
	}
	return true, nil
}

// Read returns the header stored in modelDir, or nil when the model has none.
func Read(modelDir string) ([]string, error) {
	path := filepath.Join(modelDir, File)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := readHeader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// readHeader reads the first line of r (at most maxLine bytes) as one CSV record.
func readHeader(r io.Reader) ([]string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxLine)).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0 && len(line) < maxLine) {
		return nil, fmt.Errorf("expected a header line of at most %d bytes", maxLine)
	}
	cr := csv.NewReader(strings.NewReader(line))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header line: %w", err)
	}
	return rec, nil
}
