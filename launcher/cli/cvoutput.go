package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// checkCVOutput runs before any fold trains: dir is created if new, must be a
// folder we can write, and cv.json and cv.png must not be folders.
func checkCVOutput(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if info, serr := os.Stat(dir); serr == nil && !info.IsDir() {
			return usagef("--output %s: exists and is not a folder", dir)
		}
		return usagef("--output %s: %v", dir, err)
	}
	for _, name := range []string{cvJSONFile, cvChartFile} {
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil && info.IsDir() {
			return usagef("--output %s: %s is a folder; expected a file or nothing", dir, name)
		}
	}
	probe, err := os.CreateTemp(dir, ".cv-probe-")
	if err != nil {
		return usagef("--output %s: cannot write there: %v", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// writeCVOutputs writes cv.json and cv.png as a pair: both are rendered into
// temporary files first and renamed only when both exist, so a chart that
// cannot be written leaves no new cv.json without it.
func writeCVOutputs(dir string, record any, res *model.CVResult) error {
	tmpDir, err := os.MkdirTemp(dir, ".cv-")
	if err != nil {
		return fmt.Errorf("--output %s: %w", dir, err)
	}
	defer os.RemoveAll(tmpDir)
	jsonTmp, chartTmp := filepath.Join(tmpDir, cvJSONFile), filepath.Join(tmpDir, cvChartFile)
	if err := atomicfile.Write(jsonTmp, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(record)
	}); err != nil {
		return err
	}
	if err := trainer.WriteCVChart(chartTmp, res); err != nil {
		return err
	}
	for _, name := range []string{cvChartFile, cvJSONFile} {
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil && info.IsDir() {
			return fmt.Errorf("--output %s: %s is a folder; nothing written", dir, name)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(chartTmp, filepath.Join(dir, cvChartFile)); err != nil {
		return err
	}
	return os.Rename(jsonTmp, filepath.Join(dir, cvJSONFile))
}
