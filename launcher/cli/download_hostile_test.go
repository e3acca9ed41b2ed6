package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// W4, W10, S2: archives that are corrupt past the tar's end, hold no file, or
// name entries with terminal escapes are refused, leaving nothing behind.
func TestDownloadRefusesCorruptEmptyAndEscapingArchives(t *testing.T) {
	good := tarGzBytes(t, tarEntry{name: "model.json", body: "{}"})
	flipped := bytes.Clone(good)
	flipped[len(flipped)-8] ^= 0x01 // the CRC-32 in the gzip trailer
	var empty bytes.Buffer
	zw := gzip.NewWriter(&empty)
	zw.Close()
	for _, tt := range []struct {
		name  string
		model []byte
		want  string
	}{
		{"crc flipped", flipped, "corrupt gzip stream: gzip: invalid checksum"},
		{"gzip of nothing", empty.Bytes(), "holds no files"},
		{"folders only", tarGzBytes(t, tarEntry{name: "d/", typ: tar.TypeDir}), "holds no files"},
		{"escape in a name", tarGzBytes(t, tarEntry{name: "\x1b[2J\x1b]0;owned\x07.json", body: "{}"}), `the name holds control or invalid characters`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.trainedJob("bad-2")
			h.run("wait", "bad-2")
			h.putArtifacts("bad-2", tt.model, nil)
			parent := t.TempDir()
			r := h.run("download", "bad-2", "--to", filepath.Join(parent, "to"))
			if r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", r.err, tt.want)
			}
			if strings.Contains(r.stdout+r.stderr, "\x1b") || (r.err != nil && strings.Contains(r.err.Error(), "\x1b")) {
				t.Error("an escape character reached the terminal")
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("left behind: %v", entries)
			}
		})
	}
}

// P2: a refused output.tar.gz leaves no model/ either, so a rerun is not refused.
func TestDownloadRefusedOutputKeepsNoModel(t *testing.T) {
	h := newHarness(t)
	h.trainedJob("half-1")
	h.run("wait", "half-1")
	h.putArtifacts("half-1", tarGzBytes(t, tarEntry{name: "model.json", body: "{}"}), []byte("not gzip"))
	to := filepath.Join(t.TempDir(), "to")
	if err := os.Mkdir(to, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := h.run("download", "half-1", "--to", to); r.err == nil || !strings.Contains(r.err.Error(), "not a gzip archive") {
		t.Fatalf("err = %v", r.err)
	}
	if entries, _ := os.ReadDir(to); len(entries) != 0 {
		t.Fatalf("half a download left: %v", entries)
	}
	h.putArtifacts("half-1", nil, tarGzBytes(t, tarEntry{name: "data/report.md", body: "# r"}))
	if r := h.run("download", "half-1", "--to", to); r.err != nil {
		t.Errorf("rerun: %v", r.err)
	}
}

// P4: the loser of two downloads into one folder (its model/ appeared meanwhile)
// keeps nothing there, its temporary folders included, and leaves the winner's alone.
func TestDownloadLoserLeavesNoTemp(t *testing.T) {
	h := newHarness(t)
	h.trainedJob("race-1")
	h.run("wait", "race-1")
	h.putArtifacts("race-1", tarGzBytes(t, tarEntry{name: "model.json", body: "{}"}), tarGzBytes(t, tarEntry{name: "data/report.md", body: "# r"}))
	to := t.TempDir()
	if err := os.MkdirAll(filepath.Join(to, "model"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, "model", "winner.json"), []byte("w"), 0o644); err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	env := h.env(&o, &e)
	err := env.fetchArtifacts(context.Background(), h.clients, testBucket, "output/race-1/output/", to, defaultUntarLimits)
	if err == nil || !strings.Contains(err.Error(), "model/ appeared during the download") {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(to)
	if len(entries) != 1 || entries[0].Name() != "model" {
		t.Errorf("left in --to: %v", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(to, "model", "winner.json")); string(b) != "w" {
		t.Error("the winner's model changed")
	}
}

// P5: --max-mb beyond what the byte count can hold is refused, not wrapped negative.
func TestDownloadMaxMBBounds(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"9223372036854775807", "0", "1048577"} {
		if r := h.run("download", "x-1", "--max-mb", v); ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "expected 1 to 1048576") {
			t.Errorf("--max-mb %s: %v", v, r.err)
		}
	}
}
