package dockertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrebuiltContext(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "trainer")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	df := "# c\nFROM scratch AS trainer\ncopy bin/trainer-static /usr/local/bin/trainer\nENTRYPOINT [\"/usr/local/bin/trainer\"]\n"
	PrebuiltContext(t, []byte(df), bin, dst)
	if b, err := os.ReadFile(filepath.Join(dst, "bin", "trainer-static")); err != nil || string(b) != "binary" {
		t.Errorf("binary at the COPY source: %q, %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "Dockerfile")); string(b) != df {
		t.Errorf("Dockerfile %q", b)
	}
	for _, bad := range []string{
		"FROM golang AS b\nFROM scratch\nCOPY --from=b /x /x\n",
		"FROM scratch\nCOPY --from=b /x /x\n",
		"FROM scratch\nCOPY a /a\nCOPY b /b\n",
	} {
		tb := &fakeTB{}
		func() {
			defer func() { recover() }()
			PrebuiltContext(tb, []byte(bad), bin, t.TempDir())
		}()
		if tb.failed == "" {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestScratchDockerfile(t *testing.T) {
	want := "FROM scratch\nCOPY bin /usr/local/bin/bin\nENTRYPOINT [\"/usr/local/bin/bin\"]\n"
	if got := ScratchDockerfile("bin", "/usr/local/bin/bin"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// fakeTB records Skip and Fatal calls; both stop the calling goroutine like testing.T.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

type stop struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, a ...any) {
	f.skipped = fmt.Sprintf(format, a...)
	panic(stop{})
}
func (f *fakeTB) Fatalf(format string, a ...any) {
	f.failed = fmt.Sprintf(format, a...)
	panic(stop{})
}

func callRequire(tb *fakeTB) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stop); !ok {
				panic(r)
			}
		}
	}()
	Require(tb)
}

func TestRequireWithoutEngine(t *testing.T) {
	// An empty PATH hides the docker CLI, which is what a machine without Docker looks like.
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		require              string
		wantSkip, wantFailed bool
	}{
		{"", true, false},
		{"0", true, false},
		{"1", false, true},
	}
	for _, tt := range tests {
		t.Run("require="+tt.require, func(t *testing.T) {
			t.Setenv(RequireEnv, tt.require)
			tb := &fakeTB{}
			callRequire(tb)
			if (tb.skipped != "") != tt.wantSkip || (tb.failed != "") != tt.wantFailed {
				t.Errorf("skipped %q failed %q; want skip=%v fail=%v", tb.skipped, tb.failed, tt.wantSkip, tt.wantFailed)
			}
			if msg := tb.skipped + tb.failed; !strings.Contains(msg, "docker CLI not on PATH") {
				t.Errorf("message %q does not say why", msg)
			}
		})
	}
}

func TestCopyTree(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "input", "data", "train"), 0o755)
	os.WriteFile(filepath.Join(src, "input", "data", "train", "a.csv"), []byte("x,y\n"), 0o644)
	os.MkdirAll(filepath.Join(src, "model"), 0o755)
	dst := filepath.Join(t.TempDir(), "copy")
	CopyTree(t, src, dst)
	if b, err := os.ReadFile(filepath.Join(dst, "input", "data", "train", "a.csv")); err != nil || string(b) != "x,y\n" {
		t.Errorf("copied file %q, %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(dst, "model")); err != nil || !st.IsDir() {
		t.Errorf("empty folder not copied: %v", err)
	}
}

func TestBuildStageContext(t *testing.T) {
	root := t.TempDir()
	for rel, content := range map[string]string{
		"go.mod": "module x\n", "go.sum": "", "cmd/main.go": "package main\n", "lib/a/a.go": "package a\n", "docs/skip.md": "no",
	} {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	df := "FROM golang AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\ncopy cmd/ cmd/\nCOPY lib lib\n" +
		"FROM scratch\nCOPY --from=build /out/x /x\n"
	dst := filepath.Join(t.TempDir(), "ctx")
	BuildStageContext(t, df, root, dst)
	var got []string
	filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			r, _ := filepath.Rel(dst, p)
			got = append(got, filepath.ToSlash(r))
		}
		return nil
	})
	want := "cmd/main.go go.mod go.sum lib/a/a.go"
	if strings.Join(got, " ") != want {
		t.Errorf("context holds %v, want %s", got, want)
	}
}
