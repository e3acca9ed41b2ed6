package trainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline/atomicfile"
)

// MaxFailureBytes is how much of output/failure SageMaker shows as FailureReason.
const MaxFailureBytes = 1024

// failureReason turns err into the text written to output/failure (optml.Reason).
func failureReason(err error) string { return optml.Reason(err, MaxFailureBytes) }

// writeFailure writes failureReason(err) to path atomically.
func writeFailure(path string, err error) error {
	return atomicfile.WriteFile(path, []byte(failureReason(err)+"\n"))
}

// failureSlot keeps disk space for output/failure from the start of a run: outputs
// that fill the volume must not leave the job without its failure reason. The space
// is a hidden file of MaxFailureBytes beside the failure file; writing the reason
// overwrites it in place and renames it, which allocates nothing.
type failureSlot struct {
	path, reserve string
}

// reserveFailure creates the reserve for path. A run goes on without one when it
// cannot be made (the reason is then written the ordinary way).
func reserveFailure(path string) (*failureSlot, error) {
	s := &failureSlot{path: path, reserve: filepath.Join(filepath.Dir(path), ".failure.reserved")}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return s, err
	}
	// Real bytes, not a sparse file: overwriting them must not need new blocks.
	if err := atomicfile.WriteFile(s.reserve, []byte(strings.Repeat(" ", MaxFailureBytes))); err != nil {
		s.reserve = ""
		return s, err
	}
	return s, nil
}

// write records err as the failure reason, through the reserve when there is one.
func (s *failureSlot) write(err error) error {
	msg := []byte(failureReason(err) + "\n")
	if s.reserve == "" {
		return atomicfile.WriteFile(s.path, msg)
	}
	werr := overwrite(s.reserve, msg)
	if werr == nil {
		werr = os.Rename(s.reserve, s.path)
	}
	if werr == nil {
		s.reserve = ""
		return nil
	}
	// the reserve is damaged or gone: try the ordinary way before giving up
	if err := atomicfile.WriteFile(s.path, msg); err != nil {
		return fmt.Errorf("%w (reserved space: %v)", err, werr)
	}
	s.release()
	return nil
}

// overwrite writes msg over the start of an existing file and cuts it to len(msg).
func overwrite(path string, msg []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(msg, 0)
	if err == nil {
		err = f.Truncate(int64(len(msg)))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// release gives the reserved space back after a run that did not fail.
func (s *failureSlot) release() {
	if s.reserve != "" {
		os.Remove(s.reserve)
		s.reserve = ""
	}
}

// ErrUsage marks command-line mistakes (exit status 2).
var ErrUsage = errors.New("usage")
