package trainer

import (
	"bytes"
	"compress/gzip"
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
)

// special makes a non-regular entry at rel under root: "fifo", or "link:TARGET".
func special(t *testing.T, root, rel, kind string) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if target, ok := strings.CutPrefix(kind, "link:"); ok {
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

func TestDiscoverChannelsRefusesUnsafeFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs or /dev/zero")
	}
	const csv = "a,b\n1,2\n"
	tests := []struct {
		name     string
		files    map[string]string
		specials map[string]string // rel path -> kind
		prepared bool              // isPrepared answers true
		want     string            // error; "" = accepted
		tables   []string          // when accepted
	}{
		{name: "FIFO named as a table",
			specials: map[string]string{"input/data/train/a.csv": "fifo"},
			want:     "channel train: input/data/train/a.csv: is a named pipe (FIFO); expected a regular file"},
		{name: "link to /dev/zero",
			files:    map[string]string{"input/data/train/a.csv": csv},
			specials: map[string]string{"input/data/train/zero.csv.gz": "link:/dev/zero"},
			want:     "channel train: input/data/train/zero.csv.gz: symbolic link to /dev/zero, outside the channel; expected a regular file inside input/data/train"},
		{name: "link to a regular file outside the channel",
			files:    map[string]string{"input/data/train/a.csv": csv, "input/data/elsewhere.csv": csv},
			specials: map[string]string{"input/data/train/sub/b.csv": "link:../../elsewhere.csv"},
			want:     "channel train: input/data/train/sub/b.csv: symbolic link to "},
		{name: "link to the channel's parent",
			files:    map[string]string{"input/data/train/a.csv": csv},
			specials: map[string]string{"input/data/train/up.csv": "link:.."},
			want:     "outside the channel"},
		{name: "broken link",
			files:    map[string]string{"input/data/train/a.csv": csv},
			specials: map[string]string{"input/data/train/gone.csv": "link:missing.csv"},
			want:     "channel train: input/data/train/gone.csv: broken symbolic link"},
		{name: "link to a folder inside",
			files:    map[string]string{"input/data/train/a.csv": csv, "input/data/train/sub/c.csv": csv},
			specials: map[string]string{"input/data/train/d.csv": "link:sub"},
			want:     "channel train: input/data/train/d.csv: is a link to a folder; expected a regular file"},
		{name: "link inside the channel is read",
			files:    map[string]string{"input/data/train/a.csv": csv},
			specials: map[string]string{"input/data/train/b.csv": "link:a.csv"},
			tables:   []string{"a.csv", "b.csv"}},
		{name: "FIFO under another name is only ignored",
			files:    map[string]string{"input/data/train/a.csv": csv},
			specials: map[string]string{"input/data/train/notes.pipe": "fifo"},
			tables:   []string{"a.csv"}},
		{name: "prepared dataset with its manifest linked to /dev/zero",
			specials: map[string]string{"input/data/train/manifest.json": "link:/dev/zero"},
			prepared: true,
			want:     "channel train: input/data/train/manifest.json: symbolic link to /dev/zero, outside the channel"},
		{name: "validation channel checked too",
			files:    map[string]string{"input/data/train/a.csv": csv},
			specials: map[string]string{"input/data/validation/v.csv": "fifo"},
			want:     "channel validation: input/data/validation/v.csv: is a named pipe (FIFO)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, withHP(tt.files))
			for rel, kind := range tt.specials {
				special(t, root, rel, kind)
			}
			p := optml.Paths{Root: root}
			cfg, err := loadConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			isPrepared := func(context.Context, string) (bool, error) { return tt.prepared, nil }
			done := make(chan struct{})
			var chs map[string]*Channel
			go func() {
				defer close(done)
				chs, err = discoverChannels(context.Background(), p, cfg, isPrepared)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("discoverChannels still running after 10s")
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("discoverChannels: %v", err)
				}
				var rel []string
				for _, f := range chs[ChannelTrain].Files {
					r, _ := filepath.Rel(chs[ChannelTrain].Dir, f)
					rel = append(rel, filepath.ToSlash(r))
				}
				if !slices.Equal(rel, tt.tables) {
					t.Errorf("tables %v, want %v", rel, tt.tables)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

// A hostile train channel fails the job quickly with a failure file naming the file
// and the limit, instead of hanging or running out of memory.
func TestTrainRefusesHostileInput(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs or /dev/zero")
	}
	const header = "subject_id,prescription_start,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph,post_ph,P0,P1\n"
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, train string)
		env     map[string]string
		failure string // expected start of output/failure, after "channel train: "
	}{
		{"gzip of one endless line", func(t *testing.T, train string) {
			data := gz(append([]byte(header), bytes.Repeat([]byte{0}, 4<<20)...))
			os.WriteFile(filepath.Join(train, "bomb.csv.gz"), data, 0o644)
		}, nil, "input/data/train/bomb.csv.gz:2:1: more than 1048576 bytes in one record; expected a table within the limit (set BLUEBLOOD_MAX_LINE_BYTES to raise it)"},
		{"channel over a lowered byte limit", func(t *testing.T, train string) {
			os.WriteFile(filepath.Join(train, "a.csv"), []byte(header+strings.Repeat("1,2125-01-01,1,mg,7.3,7.4,0.1,0.2\n", 100)), 0o644)
		}, map[string]string{"BLUEBLOOD_MAX_CHANNEL_BYTES": "2KiB"}, "input/data/train/a.csv: more than 2048 decompressed bytes over the tables of one read (channel)"},
		{"link to /dev/zero", func(t *testing.T, train string) {
			special(t, train, "zero.csv", "link:/dev/zero")
		}, nil, "input/data/train/zero.csv: symbolic link to /dev/zero, outside the channel"},
		{"FIFO", func(t *testing.T, train string) {
			special(t, train, "fifo.csv", "fifo")
		}, nil, "input/data/train/fifo.csv: is a named pipe (FIFO); expected a regular file"},
		{"bad limit variable", func(t *testing.T, train string) {
			os.WriteFile(filepath.Join(train, "a.csv"), []byte(header), 0o644)
		}, map[string]string{"BLUEBLOOD_MAX_LINE_BYTES": "huge"}, `BLUEBLOOD_MAX_LINE_BYTES="huge": expected a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, withHP(nil))
			train := filepath.Join(root, "input", "data", "train")
			if err := os.MkdirAll(train, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, train)
			var stderr bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- Train(context.Background(), Options{Root: root, Stdout: &bytes.Buffer{}, Stderr: &stderr,
					Getenv: func(k string) string { return tt.env[k] }})
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("Train succeeded")
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Train still running after 30s")
			}
			got, err := os.ReadFile(filepath.Join(root, "output", "failure"))
			if err != nil {
				t.Fatalf("no failure file: %v", err)
			}
			if !strings.Contains(string(got), tt.failure) {
				t.Errorf("failure %q\nwant it to contain %q", got, tt.failure)
			}
		})
	}
}
