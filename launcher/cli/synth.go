package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
	"github.com/blueblood/blueblood/pipeline/mimic"
)

type synthCmd struct {
	e        *Env
	subjects int
	out      string
	seed     int64
	opt      pipeline.SynthOptions // the table's shape beyond subjects and seed
	format   string
	labRows  int
}

func newSynth(e *Env, fs *flag.FlagSet) unit {
	c := &synthCmd{e: e}
	fs.IntVar(&c.subjects, "subjects", 300, "number of synthetic subjects")
	fs.StringVar(&c.out, "out", "", "file to write (gzip-compressed when it ends in .gz; required)")
	fs.Int64Var(&c.seed, "seed", 42, "generator seed: the same seed gives the same file")
	fs.StringVar(&c.format, "format", "final", "final (one final table), mimic-iv or mimic-iii (a folder of native tables: --out is the folder)")
	fs.IntVar(&c.labRows, "lab-rows", 0, "mimic-iv/mimic-iii: about this many labevents rows (default 300 per subject)")
	fs.Float64Var(&c.opt.MissingRate, "missing-rate", 0.3, "mean share of missing values (each analyte's share varies from 0.4 to 1.6 times it)")
	fs.BoolVar(&c.opt.MinusOneEverywhere, "minus-one-everywhere", false, "write every missing value as -1.0, as the original tables do, also in analytes that can be negative (by default those get empty cells)")
	fs.Float64Var(&c.opt.SignErrors, "sign-errors", 0, "share of observed values written negative, as entry errors would be")
	return c
}

func (c *synthCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("synth: unexpected argument %q", args[0])
	}
	if c.out == "" {
		return usagef("--out is required: the CSV file to write")
	}
	if c.subjects < 1 || c.subjects > 1_000_000 {
		return usagef("--subjects %d: expected 1 to 1000000", c.subjects)
	}
	if !(c.opt.MissingRate >= 0 && c.opt.MissingRate < 1) {
		return usagef("--missing-rate %g: expected a share in [0, 1)", c.opt.MissingRate)
	}
	if !(c.opt.SignErrors >= 0 && c.opt.SignErrors < 1) {
		return usagef("--sign-errors %g: expected a share in [0, 1)", c.opt.SignErrors)
	}
	opt := c.opt
	opt.Subjects, opt.Seed = c.subjects, c.seed
	if opt.MissingRate == 0 {
		opt.MissingRate = -1 // SynthOptions: < 0 means none, 0 the default
	}
	switch c.format {
	case "final":
	case mimic.SynthIV, mimic.SynthIII:
		return c.native()
	default:
		return usagef("--format %q: expected final, %s or %s", c.format, mimic.SynthIV, mimic.SynthIII)
	}
	var info *pipeline.SynthInfo
	err := atomicfile.WriteGzipByName(c.out, func(w io.Writer) error {
		var err error
		info, err = pipeline.WriteSynthetic(w, opt)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.e.Stdout, "wrote %s: %d subjects, %d groups, %d rows (seed %d)\n", c.out, info.Subjects, info.Groups, info.Rows, c.seed)
	return nil
}

// native writes a folder of native MIMIC tables.
func (c *synthCmd) native() error {
	if c.labRows < 0 {
		return usagef("--lab-rows %d: expected 0 (default) or more", c.labRows)
	}
	// Made here, exclusively, so that what a failure removes is only ever ours.
	if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(c.out, 0o755); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: already exists; expected a new folder", c.out)
	} else if err != nil {
		return err
	}
	info, err := mimic.WriteSynth(c.out, mimic.SynthOptions{Version: c.format, Subjects: c.subjects, Seed: c.seed, LabRows: c.labRows})
	if err != nil {
		os.RemoveAll(c.out) // made just above: nothing of the user's is removed
		return err
	}
	fmt.Fprintf(c.e.Stdout, "wrote %s (%s): %d subjects, %d admissions, %d prescriptions, %d labevents rows (seed %d)\n",
		c.out, c.format, info.Subjects, info.Admissions, info.Prescriptions, info.LabRows, c.seed)
	return nil
}
