package serve_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/internal/dockertest"
	"github.com/blueblood/blueblood/container/serve"
	"github.com/blueblood/blueblood/container/serve/inputheader"
	"github.com/blueblood/blueblood/container/trainer"
	"github.com/blueblood/blueblood/model"
)

// trainFixture trains on the container's basic /opt/ml fixture and returns the model
// folder and the training table.
func trainFixture(t *testing.T) (modelDir string, table []byte) {
	t.Helper()
	root := t.TempDir()
	dockertest.CopyTree(t, filepath.Join("..", "testdata", "opt_ml", "basic"), root)
	var log bytes.Buffer
	if err := trainer.Train(context.Background(), trainer.Options{Root: root, Stderr: &log}); err != nil {
		t.Fatalf("train: %v\n%s", err, log.String())
	}
	table, err := os.ReadFile(filepath.Join(root, "input", "data", "train", "synthetic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "model"), table
}

// TestHeaderlessCSV: batch transform (SplitType Line) and the Python SDK's CSVSerializer
// send rows without the header line. The trainer stores the training table's header
// with the model, so the training file's rows with the header removed are answered as
// the file with its header is.
func TestHeaderlessCSV(t *testing.T) {
	dir, table := trainFixture(t)
	if _, err := os.Stat(filepath.Join(dir, inputheader.File)); err != nil {
		t.Fatalf("the trainer stored no header: %v", err)
	}
	ts := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts.url)

	withHeader := post(t, ts.url, "text/csv", table)
	if withHeader.status != http.StatusOK {
		t.Fatalf("with header: %d %s", withHeader.status, withHeader.body)
	}
	_, rowsText, _ := bytes.Cut(table, []byte("\n"))
	without := post(t, ts.url, "text/csv", rowsText)
	if without.status != http.StatusOK {
		t.Fatalf("without header: %d %s", without.status, without.body)
	}
	if !bytes.Equal(without.body, withHeader.body) || bytes.Count(without.body, []byte("\n")) < 3 {
		t.Fatalf("answers differ or are empty:\nwith header:\n%s\nwithout:\n%s", withHeader.body, without.body)
	}

	// errors count the body's own lines
	rows := strings.Split(string(rowsText), "\n")
	short := strings.Join([]string{rows[0], rows[1][:strings.LastIndexByte(rows[1], ',')]}, "\n")
	a := post(t, ts.url, "text/csv", []byte(short))
	if msg := a.errorText(t); a.status != http.StatusBadRequest || !strings.HasPrefix(msg, "body:2:1: expected ") ||
		!strings.Contains(msg, "a body without a header line has the") {
		t.Errorf("short row: %d %q, want 400 at body:2:1 naming the training table's columns", a.status, msg)
	}
	// rows 1 and 2 are one group (subject 10000, 2126-12-19); a different pre_ph in row 2
	differs := strings.Join([]string{rows[0], strings.Replace(rows[1], ",7.4811,", ",7.5,", 1)}, "\n")
	a = post(t, ts.url, "text/csv", []byte(differs))
	if msg := a.errorText(t); a.status != http.StatusBadRequest || !strings.HasPrefix(msg, "body:2:") || !strings.Contains(msg, "differs from line 1 ") {
		t.Errorf("inconsistent group: %d %q, want 400 at body:2 naming line 1", a.status, msg)
	}

	// without the stored header a header-less body is refused as before
	if err := os.Remove(filepath.Join(dir, inputheader.File)); err != nil {
		t.Fatal(err)
	}
	ts2 := startServer(t, serve.LoadDir(dir))
	waitReady(t, ts2.url)
	if a := post(t, ts2.url, "text/csv", rowsText); a.status != http.StatusBadRequest {
		t.Errorf("header-less body, no stored header: %d, want 400", a.status)
	}
}

// TestVersionHashesModelFilesOnly: the version is the same for the same model whatever
// else sits in the folder (SageMaker's local mode extracts model.tar.gz beside the
// tarball; the trainer writes training.json), and changes with the model's files.
func TestVersionHashesModelFilesOnly(t *testing.T) {
	dir, _ := trainTiny(t, model.ArchPooledResidual)
	v0, err := serve.DirVersion(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"model.tar.gz": "tarball", "training.json": "{}", "sub/x": "y"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := serve.DirVersion(dir); v != v0 {
		t.Fatalf("version %s with other files in the folder, want %s", v, v0)
	}
	if err := os.WriteFile(filepath.Join(dir, inputheader.File), []byte("a,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v1, _ := serve.DirVersion(dir)
	if v1 == v0 {
		t.Fatal("the stored training header does not change the version")
	}
	w, err := os.ReadFile(filepath.Join(dir, "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	w[0] ^= 1
	os.WriteFile(filepath.Join(dir, "weights.bin"), w, 0o644)
	if v, _ := serve.DirVersion(dir); v == v1 {
		t.Fatal("changed weights keep the version")
	}
}
