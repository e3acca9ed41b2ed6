package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// MaxDrugs bounds the learned-drug vocabulary: each drug adds one weight per analyte.
const MaxDrugs = 4096

// MinDrugSubjects is how many training subjects a drug needs before it gets a learned
// effect of its own: a drug given to a few patients is a proxy for those patients, and
// its weights would learn their levels, not the drug.
const MinDrugSubjects = 10

// DrugVocabulary returns cfg with Drugs set to the at most cfg.LearnedDrugs drugs given
// to the most training subjects (at least MinDrugSubjects each; ties by groups, then by
// name). Tables that give embeddings only name no drugs; without the linear base there is
// nowhere to learn their effects.
func DrugVocabulary(cfg Config, train []pipeline.Sample) Config {
	cfg.Drugs = nil
	if cfg.LearnedDrugs == 0 || !cfg.linear() {
		return cfg
	}
	groups := map[string]int{}
	subjects := map[string]map[string]bool{}
	for i := range train {
		seen := map[string]bool{}
		for _, d := range train[i].Drugs {
			if d = strings.TrimSpace(d); d != "" && !seen[d] {
				seen[d] = true
				groups[d]++
				if subjects[d] == nil {
					subjects[d] = map[string]bool{}
				}
				subjects[d][train[i].Subject] = true
			}
		}
	}
	for d, s := range subjects {
		if len(s) >= MinDrugSubjects {
			cfg.Drugs = append(cfg.Drugs, d)
		}
	}
	slices.SortFunc(cfg.Drugs, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(subjects[b]), len(subjects[a])), cmp.Compare(groups[b], groups[a]), cmp.Compare(a, b))
	})
	if len(cfg.Drugs) > cfg.LearnedDrugs {
		cfg.Drugs = cfg.Drugs[:cfg.LearnedDrugs]
	}
	return cfg
}

func validateDrugs(drugs []string, linearBase bool) error {
	if len(drugs) == 0 {
		return nil
	}
	if !linearBase {
		return fmt.Errorf("model config: drugs: %d drugs given, but only the linear base learns drug effects of its own", len(drugs))
	}
	if len(drugs) > MaxDrugs {
		return fmt.Errorf("model config: %d drugs: expected at most %d", len(drugs), MaxDrugs)
	}
	seen := make(map[string]bool, len(drugs))
	for i, d := range drugs {
		if d == "" || d != strings.TrimSpace(d) || seen[d] {
			return fmt.Errorf("model config: drugs[%d] %q: expected a distinct, non-empty, trimmed name", i, d)
		}
		seen[d] = true
	}
	return nil
}

// drugIDs maps each of s's rows to its index in the model's drugs, -1 for the others;
// nil when no row has a learned drug (or the model has none).
func (m *Model) drugIDs(s *pipeline.Sample) []int32 {
	if len(m.drugIdx) == 0 {
		return nil
	}
	var ids []int32
	forLearnedDrugs(m.drugIdx, s, func(i, k int) {
		if ids == nil {
			ids = make([]int32, s.NumRx())
			for j := range ids {
				ids[j] = -1
			}
		}
		ids[i] = int32(k)
	})
	return ids
}

// forLearnedDrugs calls fn with each row of s whose drug is in idx (by its trimmed name,
// as DrugVocabulary counted it) and the drug's index.
func forLearnedDrugs(idx map[string]int, s *pipeline.Sample, fn func(row, k int)) {
	for i, d := range s.Drugs {
		if k, ok := idx[strings.TrimSpace(d)]; ok {
			fn(i, k)
		}
	}
}
