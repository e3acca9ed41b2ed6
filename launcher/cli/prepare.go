package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/blueblood/blueblood/container/hparams"
	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/pipeline"
	_ "github.com/blueblood/blueblood/pipeline/formats" // every registered input format
	"github.com/blueblood/blueblood/pipeline/s3store"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

type prepareCmd struct {
	e          *Env
	inputs     listFlag
	output     string
	fractions  string
	maxBadRows int
	allowMixed bool
	// hp holds --seed and every hyperparameter that shapes the samples (hparams.Spec.Data),
	// checked by their specs and read through the trainer's read-options builder
	hp  hpValues
	job prepareJobFlags // --image: run as a processing job (prepare_job.go)
	// native MIMIC tables: what is not a hyperparameter
	anyAdmission bool
	table        string
}

func newPrepare(e *Env, fs *flag.FlagSet) unit {
	c := &prepareCmd{e: e}
	fs.Var(&c.inputs, "input", "table, folder or s3:// prefix to read (repeatable; train=PATH etc. for pre-split inputs)")
	fs.StringVar(&c.output, "output", "", "local folder or s3:// prefix that receives train/ validation/ test/ (required)")
	fs.StringVar(&c.fractions, "fractions", "0.7,0.15,0.15", "train,validation,test shares of subjects")
	fs.IntVar(&c.maxBadRows, "max-bad-rows", 0, "bad rows that may be skipped and reported (0 = fail on the first)")
	c.job.register(fs)
	fs.BoolVar(&c.allowMixed, "allow-mixed-tables", false, "read final tables of different kinds together (ids or none, raw or scaled 0..1, drug names or embeddings)")
	for _, s := range hparams.Specs {
		if s.Data || s.Name == "seed" {
			c.hp.flag(fs, s)
		}
	}
	fs.BoolVar(&c.anyAdmission, "any-admission", false, "native MIMIC tables: pair values from any admission (default: the prescription's admission only)")
	fs.StringVar(&c.table, "table", "", "native MIMIC tables: also write the pairs as a final table (one row per prescription) to this local .csv or .csv.gz file")
	return c
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
	fr, err := pipeline.ParseFractions(c.fractions)
	if err != nil {
		return usagef("--fractions %v", err)
	}
	if c.maxBadRows < 0 {
		return usagef("--max-bad-rows %d: expected 0 or more", c.maxBadRows)
	}
	_, hp, err := trainer.ParseHyperparameters(c.hp.values)
	if err != nil {
		return usageError(err.Error())
	}
	lim, err := pipeline.LimitsFromEnv(c.e.Getenv)
	if err != nil {
		return usagef("%v", err)
	}
	opt := pipeline.PrepareOptions{
		Inputs: c.inputs, Output: c.output, Seed: hp.Seed, Fractions: fr,
		MaxPrescriptions: hp.MaxPrescriptions, OverflowPolicy: hp.OverflowPolicy,
		Read: hp.ReadOptions(lim),
	}
	opt.Read.MaxBadRows, opt.Read.AllowMixedKinds = c.maxBadRows, c.allowMixed
	opt.Read.Pairing.AnyAdmission, opt.Read.Pairing.Table = c.anyAdmission, c.table
	if err := opt.Read.Pairing.Check(); err != nil {
		return usagef("%v", err)
	}
	if c.job.active() {
		if c.table != "" {
			return usagef("--table writes a local file; a processing job cannot: prepare locally, or read the job's output")
		}
		return c.job.submit(ctx, c.e, opt)
	}
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
