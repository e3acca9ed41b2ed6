package pipeline

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// sortedCodes is set's strings in sorted order and each one's index in it.
func sortedCodes(set map[string]bool) ([]string, map[string]int32) {
	values := make([]string, 0, len(set))
	for v := range set {
		values = append(values, v)
	}
	sort.Strings(values)
	code := make(map[string]int32, len(values))
	for i, v := range values {
		code[v] = int32(i)
	}
	return values, code
}

// drugArray is the prepared dataset's drug names: the distinct names in sorted order and,
// per prescription row, its name's index or -1; nil when no sample names its drugs.
func drugArray(samples []Sample, rows int) (values []string, idx []byte) {
	set := map[string]bool{}
	for i := range samples {
		for _, d := range samples[i].Drugs {
			if d != "" {
				set[d] = true
			}
		}
	}
	if len(set) == 0 {
		return nil, nil
	}
	values, code := sortedCodes(set)
	idx = make([]byte, 0, 4*rows)
	for i := range samples {
		s := &samples[i]
		for k := 0; k < s.NumRx(); k++ {
			c := int32(-1)
			if k < len(s.Drugs) && s.Drugs[k] != "" {
				c = code[s.Drugs[k]]
			}
			idx = binary.LittleEndian.AppendUint32(idx, uint32(c))
		}
	}
	return values, idx
}

// readDrugs names s's rows from their indices into values (-1: no name).
func readDrugs(s *Sample, idx []int32, values []string) error {
	names := make([]string, len(idx))
	named := false
	for k, c := range idx {
		switch {
		case c == -1:
		case c < 0 || int(c) >= len(values):
			return fmt.Errorf("drug index %d outside drug_values", c)
		default:
			names[k], named = values[c], true
		}
	}
	if named {
		s.Drugs = names
	}
	return nil
}
