package pipeline

import (
	"context"
	"fmt"
	"sync"
)

// Format is an input format that reads whole inputs (a local folder, an s3:// prefix, or
// a file) into samples, for formats that are not one-row-per-prescription CSV tables.
type Format interface {
	Name() string
	// Detect reports whether input is in this format (e.g. from the folder layout).
	// It must be cheap: list names, maybe read a header; never read a whole table.
	Detect(ctx context.Context, input string, opt ReadOptions) (bool, error)
	// Read reads all inputs (each already detected as this format) into one Dataset.
	Read(ctx context.Context, inputs []string, opt ReadOptions) (*Dataset, *Report, error)
}

// formats are the registered whole-input formats, in registration order; the built-in
// CSV table formats (tableformat.go) are not among them, they read what no Format claims.
var formats struct {
	sync.RWMutex
	list []Format
}

// RegisterFormat adds f; called from the format package's init(). A nil format or a
// second format of the same name is a programming error and panics.
func RegisterFormat(f Format) {
	if f == nil {
		panic("pipeline: RegisterFormat(nil)")
	}
	formats.Lock()
	defer formats.Unlock()
	for _, g := range formats.list {
		if g.Name() == f.Name() {
			panic("pipeline: format " + f.Name() + " registered twice")
		}
	}
	formats.list = append(formats.list, f)
}

// Formats lists the names of the registered whole-input formats.
func Formats() []string {
	formats.RLock()
	defer formats.RUnlock()
	out := make([]string, len(formats.list))
	for i, f := range formats.list {
		out[i] = f.Name()
	}
	return out
}

// DetectFormat returns the registered format that claims input, or nil when none does
// (the input is then read as CSV tables). More than one claim is an error.
func DetectFormat(ctx context.Context, input string, opt ReadOptions) (Format, error) {
	formats.RLock()
	list := formats.list
	formats.RUnlock()
	var found Format
	for _, f := range list {
		ok, err := f.Detect(ctx, input, opt)
		if err != nil {
			return nil, fmt.Errorf("%s: detecting the %s format: %w", input, f.Name(), err)
		}
		if !ok {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%s: claimed by both the %s and the %s format; expected one", input, found.Name(), f.Name())
		}
		found = f
	}
	return found, nil
}

// formatOf returns the registered format every input is in, or nil when none of them is
// in a registered format; inputs partly in one format and partly in another (or in
// none) are an error, since one read yields one layout.
func formatOf(ctx context.Context, inputs []string, opt ReadOptions) (Format, error) {
	var first Format
	firstIn := ""
	for i, in := range inputs {
		f, err := DetectFormat(ctx, in, opt)
		if err != nil {
			return nil, err
		}
		if i > 0 && f != first {
			return nil, fmt.Errorf("%s is %s but %s is %s; expected every input in one format", firstIn, formatName(first), in, formatName(f))
		}
		if i == 0 {
			first, firstIn = f, in
		}
	}
	return first, nil
}

func formatName(f Format) string {
	if f == nil {
		return "a CSV table input"
	}
	return "in the " + f.Name() + " format"
}
