package trainer

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline"
)

// buildFuzzTree creates the entries of spec under root/input/data, one per line:
// "path" is a file, "path/" a folder, "path|fifo" a FIFO, "path|link:TARGET" a symbolic
// link. Entries that would leave the data folder, and all beyond 16, are skipped.
func buildFuzzTree(t *testing.T, root, spec string) {
	data := filepath.Join(root, "input", "data")
	for i, line := range strings.Split(spec, "\n") {
		if i >= 16 || len(line) > 200 {
			break
		}
		name, kind, _ := strings.Cut(line, "|")
		clean := filepath.Clean(filepath.FromSlash(name))
		if name == "" || filepath.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) || strings.ContainsRune(name, 0) {
			continue
		}
		path := filepath.Join(data, clean)
		if os.MkdirAll(filepath.Dir(path), 0o755) != nil {
			continue
		}
		switch target, isLink := strings.CutPrefix(kind, "link:"); {
		case isLink:
			os.Symlink(target, path)
		case kind == "fifo":
			syscall.Mkfifo(path, 0o644)
		case strings.HasSuffix(name, "/"):
			os.MkdirAll(path, 0o755)
		default:
			os.WriteFile(path, []byte(kind), 0o644)
		}
	}
}

// FuzzDiscoverChannels builds arbitrary channel trees (files, folders, FIFOs, links
// anywhere) and inputdataconfig.json contents. Discovery must never hang or panic,
// fail with one line, and otherwise hand the reader only regular table files inside
// their channel folder.
func FuzzDiscoverChannels(f *testing.F) {
	if runtime.GOOS == "windows" {
		f.Skip("no FIFOs")
	}
	for _, seed := range [][2]string{
		{"", "train/a.csv"},
		{`{"train":{"TrainingInputMode":"File"},"validation":{}}`, "train/a.csv\nvalidation/v.csv.gz\ntrain/.hidden/x.csv"},
		{"", "train/zero.csv|link:/dev/zero\ntrain/a.csv"},
		{"", "train/p.csv|fifo"},
		{"", "train/in.csv|link:a.csv\ntrain/a.csv"},
		{"", "train/out.csv|link:../elsewhere.csv\nelsewhere.csv"},
		{"", "train/manifest.json|{\"format\":\"blueblood-prepared\"}"},
		{`{"train":{"TrainingInputMode":"Pipe"}}`, "train_0|fifo"},
		{"", "training/a.csv\ntrain/notes.txt"},
		{`{"eval":{}}`, "train/a.csv"},
		{"[1]", "train/a.csv"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, config, tree string) {
		root := t.TempDir()
		files := map[string]string{hpPath: "{}"}
		if config != "" {
			files["input/config/inputdataconfig.json"] = config
		}
		for rel, content := range files {
			path := filepath.Join(root, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		buildFuzzTree(t, root, tree)
		p := optml.Paths{Root: root}
		cfg, err := loadConfig(p)
		if err != nil {
			return
		}
		var chs map[string]*Channel
		done := make(chan struct{})
		go func() {
			defer close(done)
			chs, err = discoverChannels(context.Background(), p, cfg, pipeline.IsPrepared)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("discovery still running after 10s")
		}
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if chs[ChannelTrain] == nil {
			t.Fatal("no train channel and no error")
		}
		for name, ch := range chs {
			if !isKnownChannel(name) || ch.Name != name || ch.Dir != p.Channel(name) {
				t.Fatalf("channel %q: %+v", name, ch)
			}
			if ch.Prepared {
				continue
			}
			if len(ch.Files) == 0 || !slices.IsSorted(ch.Files) {
				t.Fatalf("channel %s: files %v", name, ch.Files)
			}
			root, err := filepath.EvalSymlinks(ch.Dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, file := range ch.Files {
				rel, err := filepath.Rel(ch.Dir, file)
				if err != nil || !isTableFile(file) || strings.HasPrefix(rel, "..") || strings.HasPrefix(rel, ".") || strings.Contains(rel, string(filepath.Separator)+".") {
					t.Fatalf("channel %s: file %s", name, file)
				}
				st, err := os.Stat(file)
				if err != nil || !st.Mode().IsRegular() {
					t.Fatalf("channel %s: %s is not a regular file (%v)", name, file, err)
				}
				target, err := filepath.EvalSymlinks(file)
				if r, rerr := filepath.Rel(root, target); err != nil || rerr != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
					t.Fatalf("channel %s: %s resolves outside the channel to %s", name, file, target)
				}
			}
		}
	})
}
