package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blueblood/blueblood/model"
	"github.com/blueblood/blueblood/pipeline"
)

// savedModel writes a small untrained model, as a training job's model/ folder.
func savedModel(t *testing.T) string {
	t.Helper()
	layout := pipeline.Layout{Analytes: []string{"ph", "lactate"}, EmbeddingDim: 4, BlockRows: 20, BlockFeatures: 6}
	samples := []pipeline.Sample{
		{Pre: []float32{7.3, 2}, PreObserved: []bool{true, true}, Post: []float32{7.4, 1.5}, PostObserved: []bool{true, true},
			Embeddings: pipeline.EmbeddingRows([]float32{1, 2, 3, 4}, 4), Doses: []float32{10}, Units: []string{"mg"}},
		{Pre: []float32{7.1, 4}, PreObserved: []bool{true, true}, Post: []float32{7.2, 3}, PostObserved: []bool{true, false},
			Embeddings: pipeline.EmbeddingRows([]float32{4, 3, 2, 1}, 4), Doses: []float32{100}, Units: []string{"UNIT"}},
	}
	sc, err := pipeline.FitScaler(samples, layout)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Config{LSTMUnits: 4, EncoderUnits: 4, Layout: layout}, sc, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tarGz packs files (name → content) as SageMaker's model.tar.gz, or with the given
// entry type for the bad-archive cases.
func tarGz(t *testing.T, entries []tar.Header, contents [][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for i, h := range entries {
		h.Size = int64(len(contents[i]))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(contents[i]); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	gz.Close()
	path := filepath.Join(t.TempDir(), "model.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func dirArchive(t *testing.T, dir string) string {
	t.Helper()
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var hs []tar.Header
	var cs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, tar.Header{Name: f.Name(), Typeflag: tar.TypeReg})
		cs = append(cs, b)
	}
	return tarGz(t, hs, cs)
}

func TestExtractTarGz(t *testing.T) {
	tests := []struct {
		name    string
		entries []tar.Header
		want    string
	}{
		{"files and folders", []tar.Header{{Name: "sub/", Typeflag: tar.TypeDir, Mode: 0o755}, {Name: "sub/a.json", Typeflag: tar.TypeReg}, {Name: "./b.bin", Typeflag: tar.TypeReg}}, ""},
		{"parent escape", []tar.Header{{Name: "../evil", Typeflag: tar.TypeReg}}, `entry "../evil": ".." in the path`},
		{"nested escape", []tar.Header{{Name: "a/../../evil", Typeflag: tar.TypeReg}}, `".." in the path`},
		{"absolute", []tar.Header{{Name: "/etc/evil", Typeflag: tar.TypeReg}}, "absolute path"},
		{"symlink", []tar.Header{{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}, `entry "link" is a symbolic link; only regular files and folders are extracted`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			contents := make([][]byte, len(tc.entries))
			for i, h := range tc.entries {
				if h.Typeflag == tar.TypeReg {
					contents[i] = []byte("data of " + h.Name)
				}
			}
			f, err := os.Open(tarGz(t, tc.entries, contents))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			dir := t.TempDir()
			err = untarGzip(f, dir, "model.tar.gz", defaultUntarLimits)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"sub/a.json", "b.bin"} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !strings.HasSuffix(string(b), strings.TrimPrefix(name, "./")) {
					t.Errorf("%s: %q %v", name, b, err)
				}
			}
		})
	}
	if err := untarGzip(strings.NewReader("not gzip"), t.TempDir(), "model.tar.gz", defaultUntarLimits); err == nil || !strings.Contains(err.Error(), "not a gzip archive") {
		t.Errorf("plain text: %v", err)
	}
}

func TestLocalServeArgs(t *testing.T) {
	h := newHarness(t)
	e := h.env(&bytes.Buffer{}, &bytes.Buffer{})
	tests := []struct {
		name string
		cmd  localServeCmd
		want string
	}{
		{"binary", localServeCmd{e: e, port: 8080}, "serve --model /m --host 127.0.0.1 --port 8080"},
		{"image", localServeCmd{e: e, port: 9000, image: testImage},
			"run --rm --name blueblood-serve-20251125183000 -p 127.0.0.1:9000:8080 -v /m:/opt/ml/model:ro " + testImage + " serve"},
	}
	for _, tc := range tests {
		if got := strings.Join(tc.cmd.serveArgs("/m"), " "); got != tc.want {
			t.Errorf("%s: %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestLocalServeBadInput(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"local-serve"}, "--model is required"},
		{[]string{"local-serve", "--model", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"local-serve", "--model", "x", "--port", "0"}, "--port 0"},
		{[]string{"local-serve", "--model", "nope"}, `--model "nope": no such file`},
		{[]string{"local", "serve", "--model", "nope"}, `--model "nope": no such file`},
		{[]string{"local", "serve"}, "--model is required"},
		{[]string{"local-serve", "--model", filepath.Join("testdata", "predict-cases.json")}, "expected a folder or a .tar.gz archive"},
		{[]string{"local-serve", "--model", "s3://Bad_Bucket/model.tar.gz"}, "is not a valid S3 bucket name"},
	}
	for _, tc := range tests {
		r := h.run(tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || ExitCode(r.err) != ExitUsage {
			t.Errorf("%v: err %v (exit %d), want a usage error containing %q", tc.args, r.err, ExitCode(r.err), tc.want)
		}
	}
}

// TestLocalServe runs the real trainer binary's serve mode through the launcher, from a
// model folder and from a model.tar.gz, and stops it as Ctrl-C would.
func TestLocalServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer binary")
	}
	bin := filepath.Join(t.TempDir(), "trainer")
	build := exec.Command("go", "build", "-o", bin, "github.com/blueblood/blueblood/container")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build trainer: %v\n%s", err, out)
	}
	dir := savedModel(t)
	for _, tc := range []struct{ name, model string }{
		{"folder", dir},
		{"archive", dirArchive(t, dir)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, errb bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- h.env(&out, &errb).Run(ctx, []string{"local-serve", "--model", tc.model, "--trainer", bin, "--port", strconv.Itoa(port)})
			}()
			url := "http://127.0.0.1:" + strconv.Itoa(port)
			ready := false
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !ready; time.Sleep(20 * time.Millisecond) {
				if resp, err := http.Get(url + "/ping"); err == nil {
					resp.Body.Close()
					ready = resp.StatusCode == http.StatusOK
				}
			}
			if !ready {
				cancel()
				err := <-done
				t.Fatalf("no 200 from /ping within 10s (%v); stderr:\n%s", err, errb.String())
			}
			resp, err := http.Post(url+"/invocations", "application/json",
				strings.NewReader(`{"pre":{"ph":7.3},"prescriptions":[{"drug":"Heparin","dose":5000,"unit":"UNIT"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"analytes":["ph","lactate"]`) {
				t.Fatalf("invocation: %d %s", resp.StatusCode, body)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("local-serve after Ctrl-C: %v\n%s", err, errb.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatal("local-serve did not stop within 15s of Ctrl-C")
			}
			if !strings.Contains(out.String(), "serving "+tc.model+" on "+url) || !strings.Contains(errb.String(), "shutting down") {
				t.Errorf("stdout %q\nstderr %q", out.String(), errb.String())
			}
		})
	}
}
