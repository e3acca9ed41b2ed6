package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// manifest records a sweep's plan and what was submitted, so running the same
// sweep again resumes it without creating duplicates.
type manifest struct {
	Version     int       `json:"version"`
	SweepID     string    `json:"sweep_id"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
	Trials      []trial   `json:"trials"`

	path string
	mu   sync.Mutex
}

type trial struct {
	Index           int               `json:"index"`
	Name            string            `json:"name"`
	HyperParameters map[string]string `json:"hyperparameters"`
	ARN             string            `json:"arn,omitempty"`
	SubmittedAt     *time.Time        `json:"submitted_at,omitempty"`
}

func loadManifest(path string) (*manifest, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := &manifest{path: path}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("--manifest %s: not a sweep manifest: %w", path, err)
	}
	if m.Version != 1 || m.SweepID == "" {
		return nil, fmt.Errorf("--manifest %s: unsupported manifest (version %d)", path, m.Version)
	}
	return m, nil
}

// save writes the manifest atomically; the caller holds m.mu.
func (m *manifest) save() error {
	return atomicfile.Write(m.path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
}

// markSubmitted records a submission and saves at once, so an interruption
// loses at most the calls in flight (those are found again via ResourceInUse).
func (m *manifest) markSubmitted(i int, arn string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Trials[i].ARN = arn
	m.Trials[i].SubmittedAt = &at
	return m.save()
}

func (m *manifest) pending() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int
	for i, t := range m.Trials {
		if t.ARN == "" {
			out = append(out, i)
		}
	}
	return out
}
