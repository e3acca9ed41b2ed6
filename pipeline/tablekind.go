package pipeline

import (
	"fmt"
	"path"
	"strings"
)

// Final tables come in kinds that must not be mixed silently: the original project's
// folder holds a table with subject ids in raw units, its min-max-scaled copy without
// ids, a CTGAN table in the scaled format and a raw excerpt naming drugs. Read
// together they give samples on different scales, with ids or without, embedded
// different ways, and a model learns from the mixture without a warning.

// TableKind is what tells kinds of final table apart. A Dataset read from final tables
// carries its first table's kind, so that readers of several channels can compare them
// (SameKind).
type TableKind struct {
	File  string
	IDs   bool   // subject_id and prescription_start group the rows
	Drugs string // how prescriptions name drugs
	// Scale is "raw units" or "values scaled to 0..1", from the observed pre/post values;
	// "" when the table observed none.
	Scale string
}

// How a final table gives its prescriptions' drugs (TableKind.Drugs).
const (
	DrugsPColumns    = "embedding columns P0..Pn"
	DrugsEmbedColumn = "an embedding string column"
	DrugsNames       = "drug names"
)

func (s *schema) drugs() string {
	switch {
	case len(s.emb) > 0:
		return DrugsPColumns
	case s.embStr >= 0:
		return DrugsEmbedColumn
	}
	return DrugsNames
}

// DrugsIn says how a final table with this header gives its drugs: DrugsPColumns,
// DrugsEmbedColumn or DrugsNames. A model trained on embeddings has never seen the
// built-in embedder's vectors for names, and one trained on names none of another
// embedder's vectors, so servers compare the two. Errors are the header's own (an empty
// or repeated name, P columns with a gap).
func DrugsIn(header []string) (string, error) {
	s := &schema{ncol: len(header), names: make([]string, len(header))}
	if _, err := s.columnNames(header); err != nil {
		return "", err
	}
	if err := s.drugColumns(); err != nil {
		return "", err
	}
	return s.drugs(), nil
}

// scaledSlack is how far outside 0..1 a min-max-scaled table's values may stray: the
// CTGAN table reaches -0.03 and 1.05; raw units (pH about 7.4, glucose about 100) are
// far beyond.
const scaledSlack = 0.5

func kindOf(s *schema, samples []Sample) TableKind {
	k := TableKind{File: s.file, IDs: s.subject >= 0, Drugs: s.drugs()}
	seen, scaled := false, true
	for i := range samples {
		smp := &samples[i]
		for j, v := range smp.Pre {
			if smp.PreObserved[j] {
				seen = true
				scaled = scaled && v >= -scaledSlack && v <= 1+scaledSlack
			}
		}
		for j, v := range smp.Post {
			if smp.PostObserved[j] {
				seen = true
				scaled = scaled && v >= -scaledSlack && v <= 1+scaledSlack
			}
		}
	}
	switch {
	case !seen:
	case scaled:
		k.Scale = "values scaled to 0..1"
	default:
		k.Scale = "raw units"
	}
	return k
}

// MixedTablesError is a read that met final tables of different kinds; it names both
// files and how they differ. ReadOptions.AllowMixedKinds reads them together.
type MixedTablesError struct {
	First, Other string   // the files
	Diffs        []string // "a.csv has subject ids, b.csv has none", ...
}

func (e *MixedTablesError) Error() string {
	return fmt.Sprintf("%s and %s are different kinds of table: %s; expected tables of one kind", e.First, e.Other, strings.Join(e.Diffs, "; "))
}

// mixedKinds compares a table with the first final table of the read.
func mixedKinds(first, other TableKind) error {
	a, b := path.Base(first.File), path.Base(other.File)
	if a == b {
		a, b = first.File, other.File
	}
	var diffs []string
	if first.IDs != other.IDs {
		if first.IDs {
			diffs = append(diffs, fmt.Sprintf("%s has subject ids, %s has none", a, b))
		} else {
			diffs = append(diffs, fmt.Sprintf("%s has no subject ids, %s has them", a, b))
		}
	}
	if first.Drugs != other.Drugs {
		diffs = append(diffs, fmt.Sprintf("%s has %s, %s %s", a, first.Drugs, b, other.Drugs))
	}
	if first.Scale != "" && other.Scale != "" && first.Scale != other.Scale {
		diffs = append(diffs, fmt.Sprintf("%s holds %s, %s %s", a, first.Scale, b, other.Scale))
	}
	if len(diffs) == 0 {
		return nil
	}
	return &MixedTablesError{First: first.File, Other: other.File, Diffs: diffs}
}

// checkKind is called after each table of a read: the first final table sets the kind
// the others must share. from is the first sample the table added.
func (rd *tableReader) checkKind(s *schema, from int) error {
	if s == nil || rd.opt.AllowMixedKinds {
		return nil
	}
	if _, final := s.format.(finalTable); !final {
		return nil
	}
	k := kindOf(s, rd.samples[from:])
	if rd.firstKind == nil {
		rd.firstKind = &k
		return nil
	}
	if rd.firstKind.Scale == "" {
		rd.firstKind.Scale = k.Scale
	}
	return mixedKinds(*rd.firstKind, k)
}

// SameKind reports, as a *MixedTablesError, whether two datasets were read from final
// tables of different kinds (a train channel in raw units, a validation channel scaled);
// nil when they agree or either kind is unknown (a prepared dataset, joined tables).
func SameKind(a, b *Dataset) error {
	if a == nil || b == nil || a.Kind == nil || b.Kind == nil {
		return nil
	}
	return mixedKinds(*a.Kind, *b.Kind)
}
