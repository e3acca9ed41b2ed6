package trainer

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxFailureBytes is how much of output/failure SageMaker shows as FailureReason.
const MaxFailureBytes = 1024

// FailureReason turns err into the text written to output/failure: one line, no stack
// trace, cut on a character boundary to at most MaxFailureBytes-1 bytes, so the file
// with its final newline stays within MaxFailureBytes.
func FailureReason(err error) string {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	// Multi-line errors (e.g. errors.Join) become one line so the console shows all of it.
	fields := strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	msg = strings.Join(fields, "; ")
	msg = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, msg)
	if msg == "" {
		msg = "unknown error"
	}
	if len(msg) > MaxFailureBytes-1 {
		const ellipsis = "..."
		cut := MaxFailureBytes - 1 - len(ellipsis)
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + ellipsis
	}
	return msg
}

// WriteFailure writes FailureReason(err) to path atomically.
func WriteFailure(path string, err error) error {
	return WriteFileAtomic(path, []byte(FailureReason(err)+"\n"))
}

// ErrUsage marks command-line mistakes (exit status 2).
var ErrUsage = errors.New("usage")
