package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func bigManifest(t *testing.T, n int) *manifest {
	t.Helper()
	m := &manifest{manifestPlan: manifestPlan{Version: manifestVersion, SweepID: "20261207-000000", Fingerprint: "fp",
		Created: time.Unix(0, 0).UTC()}, path: filepath.Join(t.TempDir(), "m.json")}
	for i := range n {
		m.Trials = append(m.Trials, trial{Index: i + 1, Name: fmt.Sprintf("blueblood-e%d-%05d", i%100, i+1),
			HyperParameters: map[string]string{"epochs": fmt.Sprint(i%100 + 1), "learning_rate": "0.01", "lstm_units": "64"}})
	}
	return m
}

// TestManifestJournalLinear: a 10,000-job sweep's submissions are appended one line each
// (the file grows by a record, never rewritten), and load gives them back.
func TestManifestJournalLinear(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000 // the fsync per record dominates: about 2.7 ms each on a shared disk
	}
	m := bigManifest(t, n)
	if err := m.save(); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(m.path)
	planSize := info.Size()
	at := time.Unix(1800000000, 0).UTC()
	started := time.Now()
	var written int64
	for i := range n {
		if err := m.markSubmitted(i, fmt.Sprintf("arn:aws:sagemaker:eu-west-1:123456789012:training-job/j%d", i+1), at); err != nil {
			t.Fatal(err)
		}
		if i == 0 || i == n-1 {
			info, _ := os.Stat(m.path)
			written = info.Size() - planSize
			if i == 0 && written > 200 {
				t.Fatalf("the first submission wrote %d bytes: the manifest was rewritten, not appended to", written)
			}
		}
	}
	took := time.Since(started)
	if perRecord := written / int64(n); perRecord > 200 {
		t.Errorf("%d bytes per submission, want one short record", perRecord)
	}
	t.Logf("%d submissions recorded in %v (%d bytes of records after a %d-byte plan)", n, took, written, planSize)
	got, err := loadManifest(m.path)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.pending(); len(p) != 0 || got.Trials[n-1].ARN != m.Trials[n-1].ARN || !got.Trials[0].SubmittedAt.Equal(at) {
		t.Fatalf("after load: %d pending, last arn %q", len(p), got.Trials[n-1].ARN)
	}
}

// TestManifestJournalTornRecord: a record cut by an interruption is ignored (its job is
// found again through ResourceInUse); a resumed sweep rewrites the file clean.
func TestManifestJournalTornRecord(t *testing.T) {
	m := bigManifest(t, 3)
	if err := m.save(); err != nil {
		t.Fatal(err)
	}
	if err := m.markSubmitted(0, "arn:one", time.Unix(0, 0).UTC()); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(m.path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"index":2,"arn":"arn:tw`)
	f.Close()
	got, err := loadManifest(m.path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Trials[0].ARN != "arn:one" || len(got.pending()) != 2 {
		t.Fatalf("trials after a torn record: %+v", got.Trials)
	}
	if err := got.save(); err != nil {
		t.Fatal(err)
	}
	if err := got.markSubmitted(1, "arn:two", time.Unix(0, 0).UTC()); err != nil {
		t.Fatal(err)
	}
	if again, err := loadManifest(m.path); err != nil || len(again.pending()) != 1 {
		t.Fatalf("after the rewrite: %v, %v", again, err)
	}
	b, _ := os.ReadFile(m.path)
	if strings.Contains(string(b), "arn:tw\n") || strings.Count(string(b), "\n") != 3 {
		t.Errorf("rewritten manifest:\n%s", b)
	}
}

// TestManifestReadsVersion1: a manifest written before the journal (one indented JSON
// document with the ARNs in its trials) still resumes.
func TestManifestReadsVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.json")
	v1 := `{
  "version": 1, "sweep_id": "s1", "fingerprint": "fp", "created": "2026-01-01T00:00:00Z",
  "trials": [
    {"index": 1, "name": "a", "hyperparameters": {"epochs": "1"}, "arn": "arn:a", "submitted_at": "2026-01-01T00:00:01Z"},
    {"index": 2, "name": "b", "hyperparameters": {"epochs": "2"}}
  ]
}
`
	os.WriteFile(path, []byte(v1), 0o644)
	m, err := loadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Trials[0].ARN != "arn:a" || len(m.pending()) != 1 {
		t.Fatalf("version 1 trials: %+v", m.Trials)
	}
}
