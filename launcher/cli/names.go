package cli

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/blueblood/blueblood/container/hparams"
)

// Name limits from the SageMaker API.
const (
	maxJobName    = 63
	maxTuningName = 32
)

var (
	reJobName    = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
	reTuningName = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$`)
	reNotNameRun = regexp.MustCompile(`[^a-zA-Z0-9]+`)
)

// checkName validates a user-given job name for flag.
func checkName(flag, name string, tuning bool) error {
	re, limit := reJobName, maxJobName
	if tuning {
		re, limit = reTuningName, maxTuningName
	}
	if len(name) > limit || !re.MatchString(name) {
		return usagef("%s %q: expected 1-%d letters, digits and hyphens, starting and ending with a letter or digit", flag, name, limit)
	}
	return nil
}

// sanitizeBase turns any text into name characters: runs of anything but
// letters and digits become one hyphen, hyphens at the ends are dropped.
func sanitizeBase(s string) string {
	return strings.Trim(reNotNameRun.ReplaceAllString(s, "-"), "-")
}

// composeName joins base and suffix with a hyphen within limit characters,
// trimming only the base: the suffix (timestamp, trial index) keeps names
// unique, so it is never cut. suffix must already be valid name characters.
func composeName(base, suffix string, limit int) string {
	base = sanitizeBase(base)
	room := limit - len(suffix) - 1
	if room < 1 || base == "" {
		return suffix
	}
	if len(base) > room {
		base = strings.TrimRight(base[:room], "-")
	}
	if base == "" {
		return suffix
	}
	return base + "-" + suffix
}

// Timestamps used in generated names, always UTC.
func jobStamp(t time.Time) string    { return t.UTC().Format("20060102150405") }
func tuningStamp(t time.Time) string { return t.UTC().Format("060102-150405") }

// hpTag renders the given hyperparameters as a name fragment in Specs order, each as its
// spec's abbreviation and value, e.g. "e20-lr0p001-u64-d0p2" (the original project's names
// looked like lstm-e10-lr0d001-u32-d2-b1).
func hpTag(hp map[string]string, keys []string) string {
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	var parts []string
	for _, s := range hparams.Specs {
		v, ok := hp[s.Name]
		if !ok || !want[s.Name] {
			continue
		}
		ab := s.Abbreviation()
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			// Numbers: "." and a minus sign are not name characters.
			v = strings.NewReplacer(".", "p", "e+", "e", "e-", "em").Replace(v)
			if strings.HasPrefix(v, "-") {
				v = "m" + v[1:]
			}
		}
		parts = append(parts, ab+sanitizeBase(v))
	}
	return strings.Join(parts, "-")
}

// trialSuffix is "<sweep id>-<index>", the index zero-padded to the width of total.
func trialSuffix(sweepID string, index, total int) string {
	width := max(3, len(fmt.Sprint(total)))
	return fmt.Sprintf("%s-%0*d", sweepID, width, index)
}
