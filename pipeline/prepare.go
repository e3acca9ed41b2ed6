package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The channel folders Prepare writes, in the order of PrepareOptions.Fractions.
const (
	SplitTrain      = "train"
	SplitValidation = "validation"
	SplitTest       = "test"
)

// DefaultFractions are the train, validation and test shares used when none are given.
func DefaultFractions() [3]float64 { return [3]float64{0.7, 0.15, 0.15} }

// Channels are the training job's channels, which are also the folders Prepare writes,
// in fraction order. The trainer and the launcher take the names from here.
var Channels = [3]string{SplitTrain, SplitValidation, SplitTest}

// PrepareOptions configures Prepare (the launcher's "prepare" command).
type PrepareOptions struct {
	// Inputs are tables, directories or s3:// prefixes. Pre-split inputs are written
	// "train=PATH", "validation=PATH", "test=PATH"; then every input needs such a prefix,
	// Fractions and Seed are unused, and subjects must not appear in two splits.
	Inputs []string
	Output string // local directory or s3:// prefix; receives train/ validation/ test/
	Seed   int64
	// Fractions of subjects for train, validation and test; zero value = 0.7, 0.15, 0.15.
	Fractions [3]float64
	// MaxPrescriptions is the block height; groups above it follow OverflowPolicy.
	// 0 = unlimited (the block becomes the largest group).
	MaxPrescriptions int
	OverflowPolicy   string // "truncate" (default) or "split"
	Read             ReadOptions
}

// SplitSummary describes one written split.
type SplitSummary struct {
	Name          string `json:"name"`
	Path          string `json:"path"`
	Samples       int    `json:"samples"`
	Subjects      int    `json:"subjects"`
	Prescriptions int    `json:"prescription_rows"`
}

// Summary is what Prepare did, for people (WriteText) and machines (summary.json).
type Summary struct {
	Inputs           []string   `json:"inputs"`
	Output           string     `json:"output"`
	Seed             int64      `json:"seed"`
	Fractions        [3]float64 `json:"fractions"`
	PreSplit         bool       `json:"pre_split"`
	MaxPrescriptions int        `json:"max_prescriptions"`
	OverflowPolicy   string     `json:"overflow_policy"`
	Layout           Layout     `json:"layout"`
	// Read holds rows read and rejected (with reasons), groups, subjects and the missing
	// rate per analyte, over all inputs before any limit or split.
	Read Report `json:"read"`
	// GroupsOverLimit counts groups with more than MaxPrescriptions rows; with "truncate"
	// TruncatedPrescriptions rows were dropped, with "split" they became SplitExtraSamples
	// additional samples.
	// Thin lists the analytes with fewer training values than the scaler fits a std from
	// (ThinRule); the manifests' scaler says the same.
	Thin                   []string       `json:"thin_analytes,omitempty"`
	GroupsOverLimit        int            `json:"groups_over_limit"`
	TruncatedPrescriptions int            `json:"truncated_prescriptions"`
	SplitExtraSamples      int            `json:"split_extra_samples"`
	Splits                 []SplitSummary `json:"splits"`
	Sources                []Source       `json:"sources"`
}

// WriteText prints the summary for people.
func (s *Summary) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("inputs:              %s\n", strings.Join(s.Inputs, " "))
	ew.printf("output:              %s\n", s.Output)
	if s.PreSplit {
		ew.printf("split:               given by the inputs\n")
	} else {
		ew.printf("split:               by subject, seed %d, fractions %g/%g/%g\n", s.Seed, s.Fractions[0], s.Fractions[1], s.Fractions[2])
	}
	ew.printf("layout:              %d analytes, embedding %d, block %d x %d\n", len(s.Layout.Analytes), s.Layout.EmbeddingDim, s.Layout.BlockRows, s.Layout.BlockFeatures)
	if ew.err == nil {
		ew.err = s.Read.WriteText(w)
	}
	limit := "unlimited"
	if s.MaxPrescriptions > 0 {
		limit = fmt.Sprint(s.MaxPrescriptions)
	}
	ew.printf("max prescriptions:   %s (policy %s): %d groups over the limit", limit, s.OverflowPolicy, s.GroupsOverLimit)
	switch s.OverflowPolicy {
	case PolicySplit:
		ew.printf(", split into %d extra samples\n", s.SplitExtraSamples)
	default:
		ew.printf(", %d prescriptions truncated\n", s.TruncatedPrescriptions)
	}
	if len(s.Thin) > 0 {
		ew.printf("thin analytes:       %s (%s)\n", strings.Join(s.Thin, ", "), ThinRule)
	}
	for _, sp := range s.Splits {
		ew.printf("%-11s          %d samples, %d subjects, %d prescription rows -> %s\n", sp.Name+":", sp.Samples, sp.Subjects, sp.Prescriptions, sp.Path)
	}
	return ew.err
}

// Prepare reads the inputs, limits group sizes, splits by subject, fits the scaler on the
// training split and writes train/, validation/ and test/ prepared datasets plus
// summary.json under Output, atomically.
func Prepare(ctx context.Context, opt PrepareOptions) (*Summary, error) {
	if opt.Output == "" {
		return nil, errors.New("no output given")
	}
	if opt.OverflowPolicy == "" {
		opt.OverflowPolicy = PolicyTruncate
	}
	if opt.Fractions == [3]float64{} {
		opt.Fractions = DefaultFractions()
	}
	if err := CheckFractions(opt.Fractions); err != nil {
		return nil, err
	}
	if opt.MaxPrescriptions < 0 {
		return nil, fmt.Errorf("max prescriptions %d: expected 0 (unlimited) or more", opt.MaxPrescriptions)
	}
	// an s3:// output without a store fails before any input is read
	if _, _, isS3, err := s3URL(opt.Output); err == nil && isS3 {
		if _, err := storeFor(opt.Output, opt.Read.S3); err != nil {
			return nil, err
		}
	}
	preSplit, splitInputs, err := splitInputs(opt.Inputs)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Inputs: opt.Inputs, Output: opt.Output, Seed: opt.Seed, Fractions: opt.Fractions,
		PreSplit: preSplit, MaxPrescriptions: opt.MaxPrescriptions, OverflowPolicy: opt.OverflowPolicy}

	var parts [3][]Sample
	var layout Layout
	var header []string // the tables' shared header (Dataset.Header), kept in the manifests
	if preSplit {
		var rep Report
		seen := map[string]int{}
		for k := range splitInputs {
			if len(splitInputs[k]) == 0 {
				continue
			}
			ds, r, err := ReadTables(ctx, splitInputs[k], opt.Read)
			if err != nil {
				return nil, err
			}
			if layout.Analytes == nil {
				layout, header = ds.Layout, ds.Header
				// later splits read -1.0 as the first (train) split decided, per analyte
				opt.Read.MinusOneReal, opt.Read.MinusOneDecided = ds.Layout.MinusOneReal, true
			} else if !slices.Equal(layout.Analytes, ds.Layout.Analytes) || layout.EmbeddingDim != ds.Layout.EmbeddingDim {
				return nil, fmt.Errorf("%s inputs: layout (%d analytes, embedding %d) differs from the other splits' (%d, %d)", Channels[k], len(ds.Layout.Analytes), ds.Layout.EmbeddingDim, len(layout.Analytes), layout.EmbeddingDim)
			}
			if !slices.Equal(header, ds.Header) {
				header = nil // no one column order fits every split's rows
			}
			for _, s := range ds.Samples {
				if j, ok := seen[s.Subject]; ok && j != k {
					return nil, fmt.Errorf("subject %s appears in both the %s and the %s inputs; a subject must be in one split only", s.Subject, Channels[j], Channels[k])
				}
				seen[s.Subject] = k
			}
			parts[k] = ds.Samples
			rep.merge(r)
			sum.Sources = append(sum.Sources, ds.Sources...)
		}
		if len(parts[0]) == 0 {
			return nil, errors.New("pre-split inputs: no train= input")
		}
		var all []Sample
		for _, p := range parts {
			all = append(all, p...)
		}
		rep.fillStats(all, layout.Analytes)
		sum.Read = rep
	} else {
		ds, rep, err := ReadTables(ctx, opt.Inputs, opt.Read)
		if err != nil {
			return nil, err
		}
		layout, header = ds.Layout, ds.Header
		sum.Read = *rep
		sum.Sources = ds.Sources
		parts[0] = ds.Samples
	}

	for k := range parts {
		for i := range parts[k] {
			n := parts[k][i].NumRx()
			if opt.MaxPrescriptions > 0 && n > opt.MaxPrescriptions {
				sum.TruncatedPrescriptions += n - opt.MaxPrescriptions
			}
		}
		limited, affected, err := LimitRows(parts[k], opt.MaxPrescriptions, opt.OverflowPolicy)
		if err != nil {
			return nil, err
		}
		sum.GroupsOverLimit += affected
		sum.SplitExtraSamples += len(limited) - len(parts[k])
		parts[k] = limited
	}
	if opt.OverflowPolicy != PolicyTruncate {
		sum.TruncatedPrescriptions = 0
	}
	if !preSplit {
		parts[0], parts[1], parts[2] = SplitBySubject(parts[0], opt.Fractions, opt.Seed)
	}
	if len(parts[0]) == 0 {
		return nil, errors.New("the training split is empty: too few subjects for the fractions")
	}
	layout.BlockRows = opt.MaxPrescriptions
	if layout.BlockRows == 0 {
		for k := range parts {
			for i := range parts[k] {
				layout.BlockRows = max(layout.BlockRows, parts[k][i].NumRx())
			}
		}
	}
	layout.BlockFeatures = layout.RxFeatures()
	sum.Layout = layout
	sc, err := FitScaler(parts[0], layout)
	if err != nil {
		return nil, err
	}
	sum.Thin = sc.Thin

	sk, err := newSink(opt.Output, opt.Read.S3)
	if err != nil {
		return nil, err
	}
	for k, name := range Channels {
		ds := &Dataset{Layout: layout, Samples: parts[k], Sources: sum.Sources, Header: header}
		if err := writePrepared(ctx, sk, name, ds, sc); err != nil {
			sk.abort(ctx)
			return nil, err
		}
		rows := 0
		for i := range parts[k] {
			rows += parts[k][i].NumRx()
		}
		sum.Splits = append(sum.Splits, SplitSummary{Name: name, Path: joinPath(opt.Output, name),
			Samples: len(parts[k]), Subjects: CountSubjects(parts[k]), Prescriptions: rows})
	}
	sb, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		sk.abort(ctx)
		return nil, err
	}
	if err := sk.put(ctx, "summary.json", append(sb, '\n')); err != nil {
		sk.abort(ctx)
		return nil, err
	}
	if err := sk.commit(ctx); err != nil {
		return nil, err
	}
	return sum, nil
}

func joinPath(root, name string) string {
	if strings.HasSuffix(root, "/") {
		return root + name
	}
	return root + "/" + name
}

// splitInputs recognises "train=", "validation=" and "test=" prefixes.
func splitInputs(inputs []string) (bool, [3][]string, error) {
	var out [3][]string
	prefixed := 0
	for _, in := range inputs {
		name, p, ok := strings.Cut(in, "=")
		if !ok || strings.Contains(name, "/") {
			continue
		}
		k := -1
		for i, n := range Channels {
			if name == n {
				k = i
			}
		}
		if k < 0 {
			return false, out, fmt.Errorf("input %q: expected train=, validation= or test= before '='", in)
		}
		out[k] = append(out[k], p)
		prefixed++
	}
	if prefixed == 0 {
		return false, out, nil
	}
	if prefixed != len(inputs) {
		return false, out, errors.New("inputs mix split-prefixed (train=...) and plain paths: give every input a prefix or none")
	}
	return true, out, nil
}

// merge adds another report's counts (statistics are recomputed by fillStats).
func (r *Report) merge(o *Report) {
	r.Files += o.Files
	r.RowsRead += o.RowsRead
	r.RowsRejected += o.RowsRejected
	if r.RejectReasons == nil {
		r.RejectReasons = map[string]int{}
	}
	for k, v := range o.RejectReasons {
		r.RejectReasons[k] += v
	}
	for _, s := range o.Rejected {
		if len(r.Rejected) < maxKeptRejections {
			r.Rejected = append(r.Rejected, s)
		}
	}
	r.DoseRanges += o.DoseRanges
	r.MissingDoses += o.MissingDoses
	r.MissingDrugs += o.MissingDrugs
	r.InconsistentGroups += o.InconsistentGroups
	r.GroupsWithoutPre += o.GroupsWithoutPre
	r.GroupsWithoutPost += o.GroupsWithoutPost
}
