package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
	_ "github.com/blueblood/blueblood/pipeline/formats" // every registered input format
	"github.com/blueblood/blueblood/pipeline/s3store"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

type prepareCmd struct {
	e                *Env
	inputs           listFlag
	output           string
	seed             int64
	fractions        string
	maxPrescriptions int
	overflow         string
	maxBadRows       int
	maxGapDays       float64
	maxGapHours      float64
	allowMixed       bool
	pairing          pipeline.Pairing
}

func newPrepare(e *Env, fs *flag.FlagSet) unit {
	c := &prepareCmd{e: e}
	fs.Var(&c.inputs, "input", "table, folder or s3:// prefix to read (repeatable; train=PATH etc. for pre-split inputs)")
	fs.StringVar(&c.output, "output", "", "local folder or s3:// prefix that receives train/ validation/ test/ (required)")
	fs.Int64Var(&c.seed, "seed", 42, "seed of the subject split")
	fs.StringVar(&c.fractions, "fractions", "0.7,0.15,0.15", "train,validation,test shares of subjects")
	fs.IntVar(&c.maxPrescriptions, "max-prescriptions", 0, "prescription rows per sample (0 = no limit)")
	fs.StringVar(&c.overflow, "overflow", "truncate", "groups above --max-prescriptions: truncate or split")
	fs.IntVar(&c.maxBadRows, "max-bad-rows", 0, "bad rows that may be skipped and reported (0 = fail on the first)")
	fs.Float64Var(&c.maxGapDays, "max-gap-days", 0, "largest gap between a prescription and its blood tests when joining separate tables (0 = no limit)")
	fs.Float64Var(&c.maxGapHours, "max-gap-hours", 0, "final tables with pre_charttime/post_charttime: drop groups whose pre or post test lies more than this many hours from the prescription (0 = no limit)")
	fs.BoolVar(&c.allowMixed, "allow-mixed-tables", false, "read final tables of different kinds together (ids or none, raw or scaled 0..1, drug names or embeddings)")
	pairingFlags(fs, &c.pairing)
	fs.StringVar(&c.pairing.Table, "table", "", "native MIMIC tables: also write the pairs as a final table (one row per prescription) to this local .csv or .csv.gz file")
	return c
}

// pairingFlags declares the native-table pairing flags (defaults from pipeline.DefaultPairing).
func pairingFlags(fs *flag.FlagSet, p *pipeline.Pairing) {
	d := pipeline.DefaultPairing()
	fs.StringVar(&p.Analytes, "analytes", d.Analytes, "native MIMIC tables: blood-gas, chemistry or a comma list of itemids or d_labitems labels")
	fs.Float64Var(&p.PreWindowHours, "pre-window", d.PreWindowHours, "native MIMIC tables: hours before a prescription group's start in which the latest value is its pre value")
	fs.Float64Var(&p.MinLagHours, "min-lag", d.MinLagHours, "native MIMIC tables: hours after the start before which no value counts as post")
	fs.Float64Var(&p.PostWindowHours, "post-window", d.PostWindowHours, "native MIMIC tables: hours after the start within which the first value is the post value")
	fs.BoolVar(&p.AnyAdmission, "any-admission", false, "native MIMIC tables: pair values from any admission (default: the prescription's admission only)")
	fs.StringVar(&p.Mode, "pairing", d.Mode, "native MIMIC tables: windows, or original (the original final table's rule on MIMIC-III blood gases)")
}

func (c *prepareCmd) Exec(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("prepare: unexpected argument %q", args[0])
	}
	if len(c.inputs) == 0 {
		return usagef("--input is required: a table, folder or s3:// prefix")
	}
	if c.output == "" {
		return usagef("--output is required: a local folder or s3:// prefix")
	}
	var fr [3]float64
	parts := strings.Split(c.fractions, ",")
	if len(parts) != 3 {
		return usagef("--fractions %q: expected three shares like 0.7,0.15,0.15", c.fractions)
	}
	sum := 0.0
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f > 1 {
			return usagef("--fractions %q: share %q is not a number in [0, 1]", c.fractions, p)
		}
		fr[i], sum = f, sum+f
	}
	if fr[0] == 0 || sum < 0.999999 || sum > 1.000001 {
		return usagef("--fractions %q: expected a positive train share and shares summing to 1", c.fractions)
	}
	if c.overflow != pipeline.PolicyTruncate && c.overflow != pipeline.PolicySplit {
		return usagef("--overflow %q: expected truncate or split", c.overflow)
	}
	if c.maxPrescriptions < 0 {
		return usagef("--max-prescriptions %d: expected 0 (no limit) or more", c.maxPrescriptions)
	}
	if c.maxBadRows < 0 {
		return usagef("--max-bad-rows %d: expected 0 or more", c.maxBadRows)
	}
	if c.maxGapDays < 0 {
		return usagef("--max-gap-days %g: expected 0 (no limit) or more", c.maxGapDays)
	}
	if c.maxGapHours < 0 {
		return usagef("--max-gap-hours %g: expected 0 (no limit) or more", c.maxGapHours)
	}
	if err := c.pairing.Check(); err != nil {
		return usagef("%v", err)
	}
	opt := pipeline.PrepareOptions{
		Inputs: c.inputs, Output: c.output, Seed: c.seed, Fractions: fr,
		MaxPrescriptions: c.maxPrescriptions, OverflowPolicy: c.overflow,
		Read: pipeline.ReadOptions{MaxBadRows: c.maxBadRows, MaxGapDays: c.maxGapDays, MaxGapHours: c.maxGapHours, AllowMixedKinds: c.allowMixed, Pairing: c.pairing},
	}
	lim, err := pipeline.LimitsFromEnv(c.e.Getenv)
	if err != nil {
		return usagef("%v", err)
	}
	opt.Read.Limits = lim
	if strings.Contains(c.output+" "+strings.Join(c.inputs, " "), "s3://") {
		cl, err := c.e.aws(ctx)
		if err != nil {
			return err
		}
		opt.Read.S3 = s3store.New(cl.S3)
	}
	sum2, err := pipeline.Prepare(ctx, opt)
	var mixed *pipeline.MixedTablesError
	if errors.As(err, &mixed) {
		return fmt.Errorf("%w (pass --allow-mixed-tables to read them together)", err)
	}
	if err != nil {
		return err
	}
	return sum2.WriteText(c.e.Stdout)
}
