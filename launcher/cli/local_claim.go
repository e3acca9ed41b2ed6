package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// claimFile, in an --output folder, holds the id of the launcher local run that
// writes there. It is created exclusively before the trainer starts, so two runs
// into one folder cannot both proceed (the emptiness check alone is a race).
const claimFile = ".blueblood-local.lock"

// newRunID names one launcher local run: the job name alone repeats within a second.
func newRunID(name string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", name, os.Getpid(), hex.EncodeToString(b))
}

// checkNotClaimed refuses a folder another run has claimed, naming that run.
func checkNotClaimed(dir string) error {
	p := filepath.Join(dir, claimFile)
	held, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	return usagef("--output %s: in use by launcher local run %s; wait for it, choose another folder, or remove %s if that run no longer exists",
		dir, oneLine(strings.TrimSpace(string(held))), p)
}

// claimOutput takes dir for run id, or says which run holds it.
func claimOutput(dir, id string) error {
	p := filepath.Join(dir, claimFile)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return checkNotClaimed(dir)
	}
	if err != nil {
		return usagef("--output %s: %v", dir, err)
	}
	_, werr := f.WriteString(id + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(p)
		return usagef("--output %s: %v", dir, werr)
	}
	return nil
}

// ownsOutput reports whether dir's claim still names run id.
func ownsOutput(dir, id string) error {
	held, err := os.ReadFile(filepath.Join(dir, claimFile))
	if err != nil || strings.TrimSpace(string(held)) != id {
		return fmt.Errorf("--output %s: this run's claim (%s) is gone or was replaced; nothing there is overwritten", dir, claimFile)
	}
	return nil
}

// releaseOutput removes the claim if it is still run id's.
func releaseOutput(dir, id string) {
	if ownsOutput(dir, id) == nil {
		os.Remove(filepath.Join(dir, claimFile))
	}
}

// keepBeside saves a finished run's model/ and output/ when they could not go
// into --output: into a new folder beside it, else nowhere (the caller then keeps
// the temporary tree). It returns where they are, or "" when not moved.
func keepBeside(root, dir, id string) string {
	dest, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), filepath.Base(filepath.Clean(dir))+".run-"+id+"-")
	if err != nil {
		return ""
	}
	for _, sub := range artifactDirs {
		src := filepath.Join(root, sub)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if os.Rename(src, filepath.Join(dest, sub)) == nil {
			continue
		}
		if err := copyTree(src, filepath.Join(dest, sub)); err != nil {
			return ""
		}
	}
	return dest
}
