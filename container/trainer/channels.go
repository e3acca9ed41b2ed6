package trainer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/blueblood/blueblood/container/optml"
	"github.com/blueblood/blueblood/pipeline"
)

// Channel names the trainer understands (declared in pipeline.Channels).
const (
	ChannelTrain      = pipeline.SplitTrain
	ChannelValidation = pipeline.SplitValidation
	ChannelTest       = pipeline.SplitTest
)

var knownChannels = pipeline.Channels[:]

// Channel is one input channel found under input/data.
type Channel struct {
	Name     string
	Dir      string
	Mode     string   // TrainingInputMode from inputdataconfig.json, "" when unknown
	Prepared bool     // the folder holds a prepared dataset rather than raw tables
	Format   string   // the registered pipeline.Format that claims the folder; "" for tables
	Files    []string // raw tables (.csv, .csv.gz), sorted; empty when Prepared or Format is set
	Ignored  []string // other files in the folder, relative to Dir, for the log
}

// PreparedFunc reports whether a folder holds a prepared dataset (pipeline.IsPrepared).
type PreparedFunc func(ctx context.Context, dir string) (bool, error)

// pipeFIFO matches Pipe mode's per-epoch FIFO names ("train_0").
var pipeFIFO = regexp.MustCompile(`^(.+)_[0-9]+$`)

// discoverChannels finds the channels of a training job. With inputdataconfig.json the
// channels it lists are authoritative; without it the folders under input/data are.
// Pipe mode, unknown channel names, a missing train channel and empty channels are errors.
func discoverChannels(ctx context.Context, p optml.Paths, cfg *Config, isPrepared PreparedFunc) (map[string]*Channel, error) {
	names, modes, err := channelNames(p, cfg)
	if err != nil {
		return nil, err
	}
	out := map[string]*Channel{}
	for _, name := range names {
		if !isKnownChannel(name) {
			return nil, fmt.Errorf("unknown channel %s%s; expected %s", name, suggestChannel(name), strings.Join(knownChannels, ", "))
		}
		mode := modes[name]
		switch mode {
		case "", "File", "FastFile":
		case "Pipe":
			return nil, fmt.Errorf("channel %s: TrainingInputMode Pipe is not supported; use File or FastFile", name)
		default:
			return nil, fmt.Errorf("channel %s: unknown TrainingInputMode %q; expected File or FastFile", name, mode)
		}
		ch := &Channel{Name: name, Dir: p.Channel(name), Mode: mode}
		if err := scanChannel(ctx, p, ch, isPrepared); err != nil {
			return nil, err
		}
		out[name] = ch
	}
	if out[ChannelTrain] == nil {
		return nil, fmt.Errorf("missing train channel: expected folder %s with .csv or .csv.gz tables or a prepared dataset", p.Rel(p.Channel(ChannelTrain)))
	}
	return out, nil
}

func channelNames(p optml.Paths, cfg *Config) ([]string, map[string]string, error) {
	modes := map[string]string{}
	var names []string
	if cfg != nil && cfg.Channels != nil {
		for name, c := range cfg.Channels {
			names = append(names, name)
			modes[name] = c.TrainingInputMode
		}
		sort.Strings(names)
		return names, modes, nil
	}
	entries, err := os.ReadDir(p.DataDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("missing train channel: folder %s does not exist", p.Rel(p.DataDir()))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: cannot list channels: %v", p.Rel(p.DataDir()), errors.Unwrap(err))
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if e.IsDir() {
			names = append(names, e.Name())
			continue
		}
		// Pipe mode has no channel folder, only FIFOs such as train_0.
		if m := pipeFIFO.FindStringSubmatch(e.Name()); m != nil && isKnownChannel(m[1]) {
			modes[m[1]] = "Pipe"
			names = append(names, m[1])
		}
	}
	names = dedupe(names)
	return names, modes, nil
}

func scanChannel(ctx context.Context, p optml.Paths, ch *Channel, isPrepared PreparedFunc) error {
	rel := p.Rel(ch.Dir)
	info, err := os.Stat(ch.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("channel %s: folder %s is missing", ch.Name, rel)
	}
	if err != nil {
		return fmt.Errorf("channel %s: %v", ch.Name, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("channel %s: %s is not a folder", ch.Name, rel)
	}
	var files, other []string
	var unsafeFiles []error // entries that are no regular file inside the channel, in walk order
	root, rootErr := filepath.EvalSymlinks(ch.Dir)
	err = filepath.WalkDir(ch.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("channel %s: %s: %v", ch.Name, p.Rel(path), errors.Unwrap(err))
		}
		if strings.HasPrefix(d.Name(), ".") && path != ch.Dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		r, _ := filepath.Rel(ch.Dir, path)
		if err := safeFile(p, ch.Dir, root, rootErr, path, d); err != nil {
			if isTableFile(path) {
				return fmt.Errorf("channel %s: %w", ch.Name, err)
			}
			unsafeFiles = append(unsafeFiles, err)
		}
		if isTableFile(path) {
			files = append(files, path)
		} else {
			other = append(other, filepath.ToSlash(r))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if isPrepared != nil {
		// pipeline.IsPrepared opens the manifest only if it is a regular file
		ok, err := isPrepared(ctx, ch.Dir)
		if err != nil {
			return fmt.Errorf("channel %s: %w", ch.Name, err)
		}
		if ok && len(unsafeFiles) > 0 {
			// every file of a prepared dataset may be read
			return fmt.Errorf("channel %s: %w", ch.Name, unsafeFiles[0])
		}
		if ok {
			ch.Prepared = true
			return nil
		}
	}
	f, err := pipeline.DetectFormat(ctx, ch.Dir, pipeline.ReadOptions{})
	if err != nil {
		return fmt.Errorf("channel %s: %w", ch.Name, err)
	}
	if f != nil {
		if len(unsafeFiles) > 0 {
			// the format reads whichever files of the folder it needs
			return fmt.Errorf("channel %s: %w", ch.Name, unsafeFiles[0])
		}
		ch.Format = f.Name()
		return nil
	}
	ch.Files, ch.Ignored = files, other
	sort.Strings(ch.Files)
	if len(ch.Files) == 0 {
		what := "it is empty"
		if len(ch.Ignored) > 0 {
			what = fmt.Sprintf("it holds %d other file(s), e.g. %s", len(ch.Ignored), ch.Ignored[0])
		}
		return fmt.Errorf("channel %s: no .csv or .csv.gz tables and no prepared dataset in %s (%s)", ch.Name, rel, what)
	}
	return nil
}

// safeFile accepts a regular file, or a symbolic link that resolves to a regular file
// inside the channel folder dir (root is dir resolved). A FIFO would block the reader
// forever, a device such as /dev/zero never ends, and a link out of the channel reads
// what the job was never given.
func safeFile(p optml.Paths, dir, root string, rootErr error, path string, d fs.DirEntry) error {
	name := p.Rel(path)
	t := d.Type()
	if t.IsRegular() {
		return nil
	}
	if t&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Errorf("%s: broken symbolic link: %v; expected a regular file", name, errors.Unwrap(err))
		}
		if rootErr != nil {
			return fmt.Errorf("%s: %v", name, rootErr)
		}
		if r, err := filepath.Rel(root, target); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s: symbolic link to %s, outside the channel; expected a regular file inside %s", name, target, p.Rel(dir))
		}
		st, err := os.Stat(target)
		if err != nil {
			return fmt.Errorf("%s: %v", name, errors.Unwrap(err))
		}
		if st.IsDir() {
			return fmt.Errorf("%s: is a link to a folder; expected a regular file", name)
		}
		t = st.Mode().Type()
	}
	return pipeline.RegularFile(name, t)
}

// isTableFile reports whether a file name is a raw table the pipeline reads.
func isTableFile(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".csv.gz")
}

func isKnownChannel(name string) bool {
	for _, k := range knownChannels {
		if k == name {
			return true
		}
	}
	return false
}

// suggestChannel names the likely intended channel for common spellings.
func suggestChannel(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "train"):
		return "; did you mean train?"
	case strings.HasPrefix(n, "val") || n == "eval" || n == "dev":
		return "; did you mean validation?"
	case strings.HasPrefix(n, "test"):
		return "; did you mean test?"
	}
	return ""
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
