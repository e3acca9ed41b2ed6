package serve

import (
	"encoding/json"
	"fmt"
	"strings"
)

// caseFields are the field names a JSON case may use, exactly as spelled.
var caseFields = []string{"cases", "id", "pre", "prescriptions", "drug", "embedding", "dose", "unit"}

// keyFrame is one open object or array while checkKeys walks a body.
type keyFrame struct {
	obj     bool
	wantKey bool
	data    bool // an object whose keys are data (pre's analyte names), not fields
	idx     int
	key     string
	seen    map[string]bool
}

// checkKeys walks a body that has decoded and refuses what encoding/json lets
// through silently: a key given twice in one object (the last would win) and a
// field in another case ("Pre" would be read as "pre"). lines labels the
// top-level values as JSON Lines do. It reads the bytes once, without decoding.
func checkKeys(body []byte, lines bool) error {
	var stack []keyFrame
	top := 0
	join := func(a, b string) string {
		if a == "" {
			return b
		}
		return a + "." + b
	}
	// path names key last of the innermost object: cases[2].pre.ph
	path := func(last string) string {
		p := ""
		if !lines && !stack[0].obj {
			p = "cases"
		}
		for _, f := range stack[:len(stack)-1] {
			if f.obj {
				p = join(p, f.key)
			} else {
				p += fmt.Sprintf("[%d]", f.idx)
			}
		}
		p = join(p, last)
		if lines {
			p = fmt.Sprintf("line %d: %s", top, p)
		}
		return p
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case ' ', '\t', '\r', '\n', ':':
			continue
		case '{', '[':
			if len(stack) == 0 {
				top++
			}
			f := keyFrame{obj: c == '{', wantKey: c == '{'}
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].key == "pre" {
				f.data = true
			}
			stack = append(stack, f)
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].obj {
					stack[n-1].wantKey = true
				} else {
					stack[n-1].idx++
				}
			}
		case '"':
			start := i
			esc := false
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					esc = true
					i++
				}
			}
			n := len(stack)
			if n == 0 || !stack[n-1].obj || !stack[n-1].wantKey {
				continue // a string value
			}
			f := &stack[n-1]
			key := string(body[start+1 : i])
			if esc {
				if err := json.Unmarshal(body[start:i+1], &key); err != nil {
					return fmt.Errorf("malformed JSON key at byte %d", start)
				}
			}
			if f.seen == nil {
				f.seen = map[string]bool{}
			}
			if f.seen[key] {
				return fmt.Errorf("%s: given twice; expected each key once", path(key))
			}
			f.seen[key] = true
			if !f.data {
				for _, name := range caseFields {
					if key != name && strings.EqualFold(key, name) {
						return fmt.Errorf("%s: unknown field; expected %q (field names are case-sensitive)", path(key), name)
					}
				}
			}
			f.key, f.wantKey = key, false
		}
	}
	return nil
}
