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

// manifestVersion is the format save writes: JSON lines, the plan first (the manifest
// with its trials), then one submission record per line, appended as jobs are submitted.
// Version 1 (one JSON document rewritten whole after each submission, quadratic in jobs)
// is still read, and rewritten as version 2 when a sweep resumes.
const manifestVersion = 2

// manifest records a sweep's plan and what was submitted, so running the same
// sweep again resumes it without creating duplicates.
type manifest struct {
	manifestPlan

	path string
	mu   sync.Mutex
}

// manifestPlan is what the manifest's first line holds.
type manifestPlan struct {
	Version     int       `json:"version"`
	SweepID     string    `json:"sweep_id"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created"`
	Trials      []trial   `json:"trials"`
}

type trial struct {
	Index           int               `json:"index"`
	Name            string            `json:"name"`
	HyperParameters map[string]string `json:"hyperparameters"`
	ARN             string            `json:"arn,omitempty"`
	SubmittedAt     *time.Time        `json:"submitted_at,omitempty"`
}

// submission is one journal line: trial Index (1-based) was created as ARN.
type submission struct {
	Index       int       `json:"index"`
	ARN         string    `json:"arn"`
	SubmittedAt time.Time `json:"submitted_at"`
}

func loadManifest(path string) (*manifest, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	m := &manifest{path: path}
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("--manifest %s: not a sweep manifest: %w", path, err)
	}
	if (m.Version != 1 && m.Version != manifestVersion) || m.SweepID == "" {
		return nil, fmt.Errorf("--manifest %s: unsupported manifest (version %d)", path, m.Version)
	}
	for line := 2; m.Version == manifestVersion; line++ {
		var s submission
		err := dec.Decode(&s)
		if err == io.EOF {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// a record cut by an interruption: its job is found again via ResourceInUse
			break
		}
		if err != nil {
			return nil, fmt.Errorf("--manifest %s: record %d: %w", path, line, err)
		}
		if s.Index < 1 || s.Index > len(m.Trials) || s.ARN == "" {
			return nil, fmt.Errorf("--manifest %s: record %d: trial %d of %d, arn %q", path, line, s.Index, len(m.Trials), s.ARN)
		}
		t := &m.Trials[s.Index-1]
		t.ARN, t.SubmittedAt = s.ARN, &s.SubmittedAt
	}
	return m, nil
}

// save writes the whole manifest atomically as version 2: the plan, then a record per
// trial already submitted. The caller holds m.mu.
func (m *manifest) save() error {
	m.Version = manifestVersion
	plan := m.manifestPlan
	plan.Trials = make([]trial, len(m.Trials))
	for i, t := range m.Trials {
		t.ARN, t.SubmittedAt = "", nil // in the records that follow
		plan.Trials[i] = t
	}
	return atomicfile.Write(m.path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		if err := enc.Encode(&plan); err != nil {
			return err
		}
		for _, t := range m.Trials {
			if t.ARN != "" {
				if err := enc.Encode(submission{Index: t.Index, ARN: t.ARN, SubmittedAt: *t.SubmittedAt}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// markSubmitted records a submission by appending one synced line, so an interruption
// loses at most the calls in flight (those are found again via ResourceInUse) and a
// sweep's writes grow linearly with its jobs.
func (m *manifest) markSubmitted(i int, arn string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	line, err := json.Marshal(submission{Index: m.Trials[i].Index, ARN: arn, SubmittedAt: at})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(m.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("manifest %s: %w", m.path, err)
	}
	m.Trials[i].ARN = arn
	m.Trials[i].SubmittedAt = &at
	return nil
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
