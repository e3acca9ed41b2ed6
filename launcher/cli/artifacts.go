package cli

import (
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// printArtifacts tells where the well-known outputs of a job (local or
// downloaded) are under dir.
func printArtifacts(w io.Writer, dir string) {
	var all []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			all = append(all, p)
		}
		return nil
	})
	sort.Strings(all)
	find := func(match func(base string) bool) []string {
		var out []string
		for _, p := range all {
			if match(filepath.Base(p)) {
				out = append(out, p)
			}
		}
		return out
	}
	fmt.Fprintf(w, "model:       %s\n", filepath.Join(dir, "model"))
	for _, row := range []struct {
		label string
		match func(string) bool
	}{
		{"metrics:", func(b string) bool { return b == "metrics.json" }},
		{"predictions:", func(b string) bool { return b == "predictions.csv" }},
		{"charts:", func(b string) bool { return strings.HasSuffix(b, ".png") }},
		{"report:", func(b string) bool { return b == "report.md" }},
		{"failure:", func(b string) bool { return b == "failure" }},
	} {
		if found := find(row.match); len(found) > 0 {
			fmt.Fprintf(w, "%-12s %s\n", row.label, strings.Join(found, " "))
		}
	}
}
