package trainer

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
	_ "github.com/blueblood/blueblood/pipeline/formats" // every registered input format
)

// loadData reads every channel, checks their layouts agree, limits prescription rows and
// splits train by subject where a validation or test channel is missing.
func (r *run) loadData(ctx context.Context, channels map[string]*Channel) error {
	lim, err := pipeline.LimitsFromEnv(r.opts.Getenv)
	if err != nil {
		return err
	}
	ropts := r.hp.ReadOptions(lim)
	r.summary.Data.Channels = map[string]ChannelSummary{}
	sets := map[string][]pipeline.Sample{}
	var trainDS *pipeline.Dataset // for the other channels' kind of table
	for _, name := range knownChannels {
		ch := channels[name]
		if ch == nil {
			continue
		}
		for _, ig := range ch.Ignored {
			r.log.printf("channel %s: ignoring %s (not .csv or .csv.gz)", name, ig)
		}
		var ds *pipeline.Dataset
		var err error
		cs := ChannelSummary{Prepared: ch.Prepared}
		if ch.Prepared {
			r.log.printf("channel %s: reading prepared dataset %s", name, r.p.Rel(ch.Dir))
			if name == ChannelTrain && r.hp.MissingCode != pipeline.MinusOneAuto {
				r.log.printf("channel %s: missing_code=%s does not apply: a prepared dataset holds prepare's decision on -1.0 (its --missing-code)", name, r.hp.MissingCode)
			}
			// The prepared scaler is ignored: scalers are fitted on the training split.
			ds, _, err = pipeline.ReadPrepared(ctx, ch.Dir, ropts)
		} else {
			inputs := ch.Files
			if ch.Format != "" {
				r.log.printf("channel %s: reading %s in the %s format", name, r.p.Rel(ch.Dir), ch.Format)
				inputs = []string{ch.Dir}
			} else {
				r.log.printf("channel %s: reading %d table file(s)", name, len(ch.Files))
			}
			var rep *pipeline.Report
			ds, rep, err = pipeline.ReadTables(ctx, inputs, ropts)
			if err == nil && rep != nil {
				var buf bytes.Buffer
				if rep.WriteText(&buf) == nil {
					r.log.printf("channel %s read report:\n%s", name, strings.TrimRight(buf.String(), "\n"))
					if name == ChannelTrain {
						r.readReport = buf.String()
						r.summary.Data.Gaps = rep.Gaps
						r.summary.Data.Pairs = rep.Pairs
						if w := rep.MinusOneWarning(); w != "" {
							r.log.printf("channel %s: %s", name, w)
							r.summary.Data.Warnings = append(r.summary.Data.Warnings, w)
						}
					}
				}
			}
			files := ch.Files
			if ch.Format != "" && ds != nil {
				files = nil
				for _, s := range ds.Sources {
					files = append(files, s.Path)
				}
			}
			for _, f := range files {
				rel, _ := filepath.Rel(ch.Dir, f)
				cs.Files = append(cs.Files, filepath.ToSlash(rel))
			}
		}
		if err != nil {
			return fmt.Errorf("channel %s: %w", name, err)
		}
		if len(ds.Samples) == 0 {
			return fmt.Errorf("channel %s: no samples in %s; expected rows with pre_ and post_ values", name, r.p.Rel(ch.Dir))
		}
		if name == ChannelTrain {
			trainDS = ds
			r.layout, r.header = ds.Layout, ds.Header
			// the other channels read -1.0 as the train channel decided, per analyte
			ropts.MinusOneReal, ropts.MinusOneDecided = ds.Layout.MinusOneReal, true
		} else if err := sameLayout(r.layout, ds.Layout); err != nil {
			return fmt.Errorf("channel %s: feature layout differs from channel train: %v", name, err)
		} else if err := pipeline.SameKind(trainDS, ds); err != nil {
			return fmt.Errorf("channel %s: %w", name, err)
		}
		cs.Samples = len(ds.Samples)
		r.summary.Data.Channels[name] = cs
		sets[name] = ds.Samples
	}

	if limit := r.hp.RowLimit(r.layout); limit > 0 {
		for name, s := range sets {
			out, affected, err := pipeline.LimitRows(s, limit, r.hp.OverflowPolicy)
			if err != nil {
				return fmt.Errorf("channel %s: %w", name, err)
			}
			if affected > 0 {
				r.log.printf("channel %s: %d group(s) over %d prescriptions (%s)", name, affected, limit, r.hp.OverflowPolicy)
			}
			r.summary.Data.Truncated += affected
			sets[name] = out
		}
	}

	r.train, r.validation, r.test = sets[ChannelTrain], sets[ChannelValidation], sets[ChannelTest]
	src := [3]string{"channel", "channel", "channel"}
	var fr [3]float64
	if r.hp.Folds > 0 {
		if err := r.holdOutFold(); err != nil {
			return err
		}
		src[2] = fmt.Sprintf("fold %d of %d", r.hp.Fold, r.hp.Folds)
	}
	if r.validation == nil {
		fr[1], src[1] = r.hp.ValidationFraction, "split from train"
	}
	if r.test == nil && r.hp.TestFraction > 0 {
		fr[2], src[2] = r.hp.TestFraction, "split from train"
	}
	if fr[1] > 0 || fr[2] > 0 {
		fr, err := pipeline.HoldOutFractions(fr[1], fr[2])
		if err != nil {
			return fmt.Errorf("hyperparameters validation_fraction and test_fraction: %w", err)
		}
		tr, va, te := pipeline.SplitBySubject(r.train, fr, r.hp.Seed)
		r.train = tr
		if fr[1] > 0 {
			r.validation = va
		}
		if fr[2] > 0 {
			r.test = te
		}
	}
	if r.test == nil {
		src[2] = "none"
	}
	switch {
	case len(r.train) == 0:
		return fmt.Errorf("channel train: no training samples left after the split; lower validation_fraction/test_fraction or add subjects")
	case len(r.validation) == 0:
		return fmt.Errorf("channel train: the validation split is empty (%d subject(s) in train); add a validation channel or more subjects", pipeline.CountSubjects(sets[ChannelTrain]))
	case src[2] != "none" && len(r.test) == 0:
		return fmt.Errorf("channel train: the test split is empty; lower test_fraction or add a test channel")
	}
	d := &r.summary.Data
	d.Analytes, d.EmbeddingDim = r.layout.Analytes, r.layout.EmbeddingDim
	d.Train = splitSummary(src[0], r.train)
	d.Validation = splitSummary(src[1], r.validation)
	d.Test = splitSummary(src[2], r.test)
	r.log.json("data", map[string]SplitSummary{"train": d.Train, "validation": d.Validation, "test": d.Test})
	return nil
}

// holdOutFold makes fold Fold of Folds (subjects assigned as launcher cv assigns them,
// from the seed) the test split and keeps the other folds for training and validation.
func (r *run) holdOutFold() error {
	if r.test != nil {
		return fmt.Errorf("hyperparameter folds=%d: the test split is a fold of the train channel; remove the test channel", r.hp.Folds)
	}
	which, err := pipeline.SubjectFolds(r.train, r.hp.Folds, r.hp.Seed)
	if err != nil {
		return fmt.Errorf("channel train: %w", err)
	}
	r.train, r.test = pipeline.HoldOutFold(r.train, which, r.hp.Fold-1)
	return nil
}

func sameLayout(want, got pipeline.Layout) error {
	if strings.Join(want.Analytes, ",") != strings.Join(got.Analytes, ",") {
		return fmt.Errorf("analytes %s; expected %s", strings.Join(got.Analytes, ","), strings.Join(want.Analytes, ","))
	}
	if want.EmbeddingDim != got.EmbeddingDim {
		return fmt.Errorf("embedding width %d; expected %d", got.EmbeddingDim, want.EmbeddingDim)
	}
	if want.BlockRows != got.BlockRows || want.BlockFeatures != got.BlockFeatures {
		return fmt.Errorf("block %dx%d; expected %dx%d", got.BlockRows, got.BlockFeatures, want.BlockRows, want.BlockFeatures)
	}
	return nil
}

func splitSummary(source string, s []pipeline.Sample) SplitSummary {
	out := SplitSummary{Source: source, Samples: len(s), Subjects: pipeline.CountSubjects(s)}
	for i := range s {
		for _, ok := range s[i].PostObserved {
			if ok {
				out.Targets++
			}
		}
	}
	return out
}
