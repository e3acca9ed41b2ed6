package optml

import (
	"errors"
	"strings"
	"syscall"
	"unicode/utf8"
)

// Reason turns err into the text of output/failure (training) or output/message
// (processing): one line, no control characters, cut on a character boundary to at most
// limit-1 bytes, so the file with its final newline stays within limit.
func Reason(err error, limit int) string {
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
	if errors.Is(err, syscall.ENOSPC) {
		// said first, so the console's cut-off reason still shows it
		msg = "out of disk space (raise the job's VolumeSizeInGB): " + msg
	}
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
	if len(msg) > limit-1 {
		const ellipsis = "..."
		cut := limit - 1 - len(ellipsis)
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + ellipsis
	}
	return msg
}
