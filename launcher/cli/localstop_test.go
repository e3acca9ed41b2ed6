package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// signalBuffer is a stdout that can be read while the child writes it and reports when a
// word first appears.
type signalBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	word string
	seen chan struct{}
}

func (b *signalBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.seen != nil && strings.Contains(b.buf.String(), b.word) {
		close(b.seen)
		b.seen = nil
	}
	return n, err
}

// TestLocalStopLetsTheTrainerSave: Ctrl-C (a cancelled context) while a local job trains
// stops it with SIGTERM (with --image: docker stop on the container) and waits, so the
// model the trainer saves on SIGTERM reaches --output.
func TestLocalStopLetsTheTrainerSave(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"binary", "on SIGTERM", []string{"--trainer", "testdata/fake-trainer-stop.sh"}},
		{"image", "after docker stop", []string{"--image", "blueblood:dev"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			seen := make(chan struct{})
			stdout := &signalBuffer{word: "training", seen: seen}
			env := h.env(newBuf(), newBuf())
			env.Stdout = stdout
			env.LookPath = func(name string) (string, error) {
				if name == "docker" {
					return "testdata/fake-docker-stop.sh", nil
				}
				return name, nil
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go func() {
				select {
				case <-seen:
					cancel()
				case <-time.After(20 * time.Second):
				}
			}()
			out := filepath.Join(t.TempDir(), "run")
			args := append([]string{"local", "--train", "testdata/train.csv", "--output", out}, tc.args...)
			err := env.Run(ctx, args)
			if err == nil || !strings.Contains(err.Error(), "stopped") {
				t.Errorf("error %v, want the job reported as stopped", err)
			}
			b, rerr := os.ReadFile(filepath.Join(out, "model", "model.json"))
			if rerr != nil || !strings.Contains(string(b), tc.want) {
				t.Errorf("model saved %s: %q, %v", tc.want, b, rerr)
			}
		})
	}
}
