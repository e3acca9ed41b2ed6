package cli

import (
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
	"github.com/blueblood/blueblood/pipeline/mimic"
)

type synthCmd struct {
	e        *Env
	subjects int
	out      string
	seed     int64
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
	switch c.format {
	case "final":
	case mimic.SynthIV, mimic.SynthIII:
		return c.native()
	default:
		return usagef("--format %q: expected final, %s or %s", c.format, mimic.SynthIV, mimic.SynthIII)
	}
	var info *pipeline.SynthInfo
	err := atomicfile.Write(c.out, func(w io.Writer) error {
		var zw *gzip.Writer
		if strings.HasSuffix(c.out, ".gz") {
			zw = gzip.NewWriter(w)
			w = zw
		}
		var err error
		if info, err = pipeline.WriteSynthetic(w, pipeline.SynthOptions{Subjects: c.subjects, Seed: c.seed}); err != nil {
			return err
		}
		if zw != nil {
			return zw.Close()
		}
		return nil
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
	if _, err := os.Stat(c.out); err == nil {
		return fmt.Errorf("%s: already exists; expected a new folder", c.out)
	}
	info, err := mimic.WriteSynth(c.out, mimic.SynthOptions{Version: c.format, Subjects: c.subjects, Seed: c.seed, LabRows: c.labRows})
	if err != nil {
		os.RemoveAll(c.out) // the folder did not exist before: nothing of the user's is removed
		return err
	}
	fmt.Fprintf(c.e.Stdout, "wrote %s (%s): %d subjects, %d admissions, %d prescriptions, %d labevents rows (seed %d)\n",
		c.out, c.format, info.Subjects, info.Admissions, info.Prescriptions, info.LabRows, c.seed)
	return nil
}
