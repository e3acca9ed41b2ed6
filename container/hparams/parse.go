package hparams

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Defaults returns every hyperparameter's default, in plain form.
func Defaults() map[string]string {
	plain := make(map[string]string, len(Specs))
	for _, s := range Specs {
		plain[s.Name] = s.Default
	}
	return plain
}

// Parse validates a hyperparameters.json map (string to string) and returns the complete
// set in plain form ("20", "0.001", "seed"), defaults filled, keyed by snake_case name.
// Keys may use the snake_case name or the kebab-case alias. SageMaker's own keys
// (leading "_" or "sagemaker_") are ignored; any other unknown key is an error that
// names the closest known hyperparameter.
func Parse(raw map[string]string) (map[string]string, error) {
	plain := Defaults()
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error for several bad keys
	seen := map[string]string{}
	for _, k := range keys {
		if Ignored(k) {
			continue
		}
		s, ok := Lookup(k)
		if !ok {
			return nil, UnknownError(k)
		}
		if prev, dup := seen[s.Name]; dup {
			return nil, fmt.Errorf("hyperparameter %s given twice (as %s and %s)", s.Name, prev, k)
		}
		seen[s.Name] = k
		v, err := s.Check(raw[k])
		if err != nil {
			return nil, err
		}
		plain[s.Name] = v
	}
	return plain, checkTogether(plain, seen)
}

// checkTogether checks the rules that involve more than one hyperparameter;
// given holds the names the job set (the others are defaults).
func checkTogether(plain, given map[string]string) error {
	val, _ := strconv.ParseFloat(plain["validation_fraction"], 64)
	test, _ := strconv.ParseFloat(plain["test_fraction"], 64)
	if val+test >= 1 {
		return fmt.Errorf("hyperparameters validation_fraction=%g and test_fraction=%g: their sum must be below 1", val, test)
	}
	folds, _ := strconv.Atoi(plain["folds"])
	fold, _ := strconv.Atoi(plain["fold"])
	if _, ok := given["fold"]; ok && folds == 0 {
		return fmt.Errorf("hyperparameter fold=%d without folds: cross-validation is off; set folds (2 or more) or drop fold", fold)
	}
	if folds == 1 || (folds > 0 && fold > folds) {
		return fmt.Errorf("hyperparameters folds=%d and fold=%d: expected folds 0 (off) or at least 2, and fold in [1, folds]", folds, fold)
	}
	return nil
}

// UnknownError is the error for a key that is not a hyperparameter.
func UnknownError(key string) error {
	if near := Closest(key); near != "" {
		return fmt.Errorf("unknown hyperparameter %s; did you mean %s?", key, near)
	}
	return fmt.Errorf("unknown hyperparameter %s; known: %s", key, strings.Join(Names(), ", "))
}

// Closest returns the known name nearest to key by edit distance, or "" if none is close.
func Closest(key string) string {
	return Nearest(strings.ToLower(strings.ReplaceAll(key, "-", "_")), Names())
}

// Nearest returns the candidate nearest to key by edit distance, or "" if none is close
// enough to be a likely misspelling. The launcher uses it for its flag names too.
func Nearest(key string, candidates []string) string {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(key, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist > max(2, len(key)/3) {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
