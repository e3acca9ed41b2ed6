package cli

import (
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

type synthCmd struct {
	e        *Env
	subjects int
	out      string
	seed     int64
}

func newSynth(e *Env, fs *flag.FlagSet) unit {
	c := &synthCmd{e: e}
	fs.IntVar(&c.subjects, "subjects", 300, "number of synthetic subjects")
	fs.StringVar(&c.out, "out", "", "file to write (gzip-compressed when it ends in .gz; required)")
	fs.Int64Var(&c.seed, "seed", 42, "generator seed: the same seed gives the same file")
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
