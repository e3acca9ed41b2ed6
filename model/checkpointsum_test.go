package model

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A checkpoint with one flipped byte must be refused, never resumed into another model.
func TestCheckpointChecksum(t *testing.T) {
	params := make([]float32, 2000)
	for i := range params {
		params[i] = float32(i) / 7
	}
	c := &Checkpoint{Format: checkpointFormat, FormatVersion: checkpointVer, Params: params, AdamM: params, AdamV: params,
		Epoch: 3, Batch: 1, Perm: []int{2, 0, 1}, Hyperparameters: map[string]string{"seed": "42"}}
	path := filepath.Join(t.TempDir(), "blueblood.ckpt")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatalf("intact checkpoint: %v", err)
	}
	if !slices.Equal(back.Params, params) || back.Epoch != 3 || !slices.Equal(back.Perm, c.Perm) {
		t.Fatal("intact checkpoint did not round-trip")
	}
	for _, at := range []int{0, 10, 40, 80, len(good) / 3, len(good) / 2, len(good) - 100, len(good) - 1} {
		bad := slices.Clone(good)
		bad[at] ^= 0x10
		p := filepath.Join(t.TempDir(), "blueblood.ckpt")
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCheckpoint(p)
		if err == nil || !strings.Contains(err.Error(), p+": ") || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("byte %d of %d flipped: %v; want a corrupt-checkpoint error naming the file", at, len(good), err)
		}
	}
	for name, data := range map[string][]byte{"truncated": good[:len(good)/2], "empty": nil, "no header": good[80:]} {
		p := filepath.Join(t.TempDir(), "blueblood.ckpt")
		os.WriteFile(p, data, 0o644)
		if _, err := LoadCheckpoint(p); err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("%s checkpoint: %v; want a corrupt-checkpoint error", name, err)
		}
	}
}

// FuzzOpenCheckpoint: only a file that is exactly a sealed body opens.
func FuzzOpenCheckpoint(f *testing.F) {
	f.Add(sealCheckpoint([]byte("gob body")))
	f.Add(sealCheckpoint(nil))
	f.Add([]byte(checkpointMagic + "00\nbody"))
	f.Add([]byte("no header at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := openCheckpoint(data)
		if err != nil {
			return
		}
		if !bytes.Equal(sealCheckpoint(body), data) {
			t.Fatalf("%q opened as %q, which seals differently", data, body)
		}
	})
}
