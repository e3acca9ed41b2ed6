package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/launcher/sagemakertest"
)

// tarEntry is one member of a test archive: a regular file unless typ is set.
type tarEntry struct {
	name, body, link string
	typ              byte
}

func tarGzBytes(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, Linkname: e.link}
		if e.typ != 0 {
			h.Typeflag, h.Size = e.typ, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// putArtifacts stores a job's model.tar.gz and output.tar.gz where the test server
// says the job wrote them (nil skips one).
func (h *harness) putArtifacts(job string, model, output []byte) {
	h.t.Helper()
	for name, body := range map[string][]byte{"model.tar.gz": model, "output.tar.gz": output} {
		if body == nil {
			continue
		}
		if _, err := h.s3.PutObject(testBucket, "output/"+job+"/output/"+name, nil, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			h.t.Fatal(err)
		}
	}
}

func TestDownloadExtractsAndSaysWhereThingsAre(t *testing.T) {
	h := newHarness(t)
	h.trainedJob("dl-1")
	h.run("wait", "dl-1")
	h.putArtifacts("dl-1",
		tarGzBytes(t, tarEntry{name: "./", typ: tar.TypeDir}, tarEntry{name: "./model.json", body: "{}"}, tarEntry{name: "./weights.bin", body: "w"}),
		tarGzBytes(t, tarEntry{name: "data/", typ: tar.TypeDir}, tarEntry{name: "data/report.md", body: "# r"}, tarEntry{name: "data/metrics.json", body: "{}"},
			tarEntry{name: "data/predictions.csv", body: "a,b"}, tarEntry{name: "data/loss.png", body: "png"}))
	to := filepath.Join(t.TempDir(), "fetched")
	r := h.run("download", "dl-1", "--to", to)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	for _, want := range []string{
		"model:       " + filepath.Join(to, "model"),
		"report:      " + filepath.Join(to, "output", "data", "report.md"),
		"metrics:     " + filepath.Join(to, "output", "data", "metrics.json"),
		"predictions: " + filepath.Join(to, "output", "data", "predictions.csv"),
		"charts:      " + filepath.Join(to, "output", "data", "loss.png"),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if b, err := os.ReadFile(filepath.Join(to, "model", "weights.bin")); err != nil || string(b) != "w" {
		t.Errorf("weights.bin: %q %v", b, err)
	}
	// The folder now holds files: a second download there is refused.
	if r := h.run("download", "dl-1", "--to", to); ExitCode(r.err) != ExitUsage || !strings.Contains(r.err.Error(), "not empty") {
		t.Errorf("download into a non-empty folder: %v", r.err)
	}
	if r := h.run("download", "no-such-job"); r.err == nil || !strings.Contains(r.err.Error(), "no such training job") {
		t.Errorf("missing job: %v", r.err)
	}
}

// Hostile archives: every one is refused, nothing lands outside the folder and no
// half-extracted model/ or output/ stays behind.
func TestDownloadRefusesUnsafeArchives(t *testing.T) {
	big := strings.Repeat("x", 1<<20+1)
	for _, tt := range []struct {
		name  string
		model []byte
		want  string
		extra []string
	}{
		{"dot-dot", tarGzBytes(t, tarEntry{name: "ok.txt", body: "1"}, tarEntry{name: "../../escaped.txt", body: "x"}), `".." in the path`, nil},
		{"absolute", tarGzBytes(t, tarEntry{name: "/tmp/escaped.txt", body: "x"}), "absolute path", nil},
		{"symlink out", tarGzBytes(t, tarEntry{name: "passwd", link: "/etc/passwd", typ: tar.TypeSymlink}), "is a symbolic link", nil},
		{"hard link", tarGzBytes(t, tarEntry{name: "h", link: "../x", typ: tar.TypeLink}), "is a hard link", nil},
		{"device", tarGzBytes(t, tarEntry{name: "zero", typ: tar.TypeChar}), "is a device", nil},
		{"too big", tarGzBytes(t, tarEntry{name: "big.bin", body: big}), "holds more than 1048576 bytes", []string{"--max-mb", "1"}},
		{"not gzip", []byte("plain text"), "not a gzip archive", nil},
		{"same name twice", tarGzBytes(t, tarEntry{name: "a", body: "1"}, tarEntry{name: "./a", body: "2"}), "file exists", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.trainedJob("bad-1")
			h.run("wait", "bad-1")
			h.putArtifacts("bad-1", tt.model, nil)
			parent := t.TempDir()
			to := filepath.Join(parent, "to")
			r := h.run(append([]string{"download", "bad-1", "--to", to}, tt.extra...)...)
			if r.err == nil || !strings.Contains(r.err.Error(), tt.want) || strings.Contains(r.err.Error(), "\n") {
				t.Errorf("err = %v, want %q", r.err, tt.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("left behind (--to was new, so it goes too): %v", entries)
			}
		})
	}
}

func TestTrainWaitDownload(t *testing.T) {
	t.Chdir(t.TempDir())
	h := newHarness(t)
	h.putArtifacts("twd-1", tarGzBytes(t, tarEntry{name: "model.json", body: "{}"}), tarGzBytes(t, tarEntry{name: "data/report.md", body: "# r"}))
	r := h.run(append([]string{"train", "--name", "twd-1", "--wait", "--download"}, base()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	if _, err := os.Stat(filepath.Join("twd-1", "output", "data", "report.md")); err != nil || !strings.Contains(r.stdout, "report:      twd-1/output/data/report.md") {
		t.Errorf("report not downloaded: %v\n%s", err, r.stdout)
	}
	if r := h.run(append([]string{"train", "--name", "twd-2", "--download"}, base()...)...); ExitCode(r.err) != ExitUsage {
		t.Errorf("--download without --wait: %v", r.err)
	}
}

func TestSweepWaitDownloadsTheBestJob(t *testing.T) {
	t.Chdir(t.TempDir())
	h := newHarness(t)
	// DefaultOutcome: more epochs, lower rmse, so epochs=20 is the best job.
	best := "blueblood-e20-20251125183000-002"
	h.putArtifacts(best, tarGzBytes(t, tarEntry{name: "model.json", body: "{}"}), tarGzBytes(t, tarEntry{name: "data/report.md", body: "# r"}))
	r := h.run(append([]string{"sweep", "--grid", "epochs=10,20", "--wait", "--download"}, base()...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(best, "output", "data", "report.md")); err != nil || !strings.Contains(r.stdout, "downloaded "+best) {
		t.Errorf("best job not downloaded: %v\n%s", err, r.stdout)
	}
}

// A failed job has no model, but its output.tar.gz holds the failure file.
func TestDownloadFailedJob(t *testing.T) {
	h := newHarness(t, sagemakertest.WithOutcome(func(sagemakertest.Job) sagemakertest.Outcome {
		return sagemakertest.Outcome{Status: "Failed", FailureReason: "AlgorithmError: bad data"}
	}))
	h.submit("dl-failed")
	h.run("wait", "dl-failed")
	h.putArtifacts("dl-failed", nil, tarGzBytes(t, tarEntry{name: "failure", body: "bad data"}))
	to := filepath.Join(t.TempDir(), "f")
	r := h.run("download", "dl-failed", "--to", to)
	if r.err != nil || !strings.Contains(r.stdout, "failure:     "+filepath.Join(to, "output", "failure")) ||
		!strings.Contains(r.stdout, "downloaded dl-failed (Failed)") || !strings.Contains(r.stderr, "model.tar.gz: not there") {
		t.Errorf("%v\n%s\n%s", r.err, r.stdout, r.stderr)
	}
}
