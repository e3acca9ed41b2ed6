package dockertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRuntimeStage(t *testing.T) {
	tests := []struct {
		name, dockerfile, want, err string
	}{
		{
			name: "scratch runtime",
			dockerfile: "FROM golang:1.26 AS build\nRUN go build -o /out/trainer ./container\n\n" +
				"# runtime\nFROM scratch\nCOPY --from=build /out/trainer /usr/local/bin/trainer\nENTRYPOINT [\"/usr/local/bin/trainer\"]\n",
			want: "FROM scratch\nCOPY trainer /usr/local/bin/trainer\nENTRYPOINT [\"/usr/local/bin/trainer\"]\n",
		},
		{
			name:       "lowercase and distroless",
			dockerfile: "from golang AS b\nrun true\nfrom gcr.io/distroless/static\ncopy --from=b /x /bin/x\nentrypoint [\"/bin/x\"]\n",
			want:       "from gcr.io/distroless/static\ncopy trainer /bin/x\nentrypoint [\"/bin/x\"]\n",
		},
		{name: "single stage", dockerfile: "FROM scratch\nCOPY x /x\n", err: "expected a multi-stage build"},
		{name: "no copy from build", dockerfile: "FROM golang\nFROM scratch\nCOPY x /x\n", err: "no COPY --from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RuntimeStage(tt.dockerfile, "trainer")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
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
