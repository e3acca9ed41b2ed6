package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/blueblood/blueblood/pipeline"
)

// readCVInputs reads cv's inputs: raw or final tables through pipeline.ReadTables, or
// prepared datasets (what `launcher prepare` and its processing job write) as they are:
// a split folder (train/) or the whole output, whose train, validation and test splits
// are pooled, since cv makes its own folds.
func readCVInputs(ctx context.Context, inputs []string, opt pipeline.ReadOptions) (*pipeline.Dataset, *pipeline.Report, error) {
	var prepared, tables []string
	for _, in := range inputs {
		dirs, err := preparedSplits(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		if dirs == nil {
			tables = append(tables, in)
		}
		prepared = append(prepared, dirs...)
	}
	if len(prepared) == 0 {
		return pipeline.ReadTables(ctx, inputs, opt)
	}
	if len(tables) > 0 {
		return nil, nil, usagef("--input %s is a table but %s is a prepared dataset: give one kind", tables[0], prepared[0])
	}
	var all *pipeline.Dataset
	for _, dir := range prepared {
		ds, _, err := pipeline.ReadPrepared(ctx, dir, opt)
		if err != nil {
			return nil, nil, err
		}
		if all == nil {
			all = ds
			continue
		}
		if !slices.Equal(all.Layout.Analytes, ds.Layout.Analytes) || all.Layout.EmbeddingDim != ds.Layout.EmbeddingDim {
			return nil, nil, fmt.Errorf("%s: layout (%d analytes, embedding %d) differs from %s's (%d, %d)", dir,
				len(ds.Layout.Analytes), ds.Layout.EmbeddingDim, prepared[0], len(all.Layout.Analytes), all.Layout.EmbeddingDim)
		}
		all.Samples = append(all.Samples, ds.Samples...)
		all.Sources = append(all.Sources, ds.Sources...)
	}
	// a prepared dataset was checked when it was written: nothing to report
	return all, &pipeline.Report{}, nil
}

// preparedSplits returns [in] for a prepared dataset, its split folders for a prepare
// output, and nil for anything else.
func preparedSplits(ctx context.Context, in string) ([]string, error) {
	if ok, err := pipeline.IsPrepared(ctx, in); err != nil || ok {
		return []string{in}, err
	}
	var dirs []string
	for _, split := range pipeline.Channels {
		dir := filepath.Join(in, split)
		ok, err := pipeline.IsPrepared(ctx, dir)
		if err != nil {
			return nil, err
		}
		if ok {
			dirs = append(dirs, dir)
		}
	}
	return dirs, nil
}
