package pipeline

import "strings"

// subjectID normalises a subject id written as a whole float ("10000.0", as a
// pandas float column exports it) to its integer form, so that one patient
// written both ways stays one subject and never lands in two folds.
func subjectID(s string) string {
	dot := strings.IndexByte(s, '.')
	if dot <= 0 {
		return s
	}
	for i := range dot {
		if s[i] < '0' || s[i] > '9' {
			return s
		}
	}
	for i := dot + 1; i < len(s); i++ {
		if s[i] != '0' {
			return s
		}
	}
	return s[:dot]
}
