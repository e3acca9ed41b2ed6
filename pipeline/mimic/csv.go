package mimic

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// csvReader reads RFC 4180 records fast: a line without a quote is split in place; a
// line with quotes is parsed field by field and may continue over several lines. The
// fields are valid until the next call.
type csvReader struct {
	br     *bufio.Reader
	file   string
	line   int // the line the current record starts on
	next   int // the line the next record starts on
	acc    []byte
	fields [][]byte
	starts []int // 1-based column of each field, for errors
	quoted []byte
}

func newCSVReader(r io.Reader, file string) *csvReader {
	return &csvReader{br: bufio.NewReaderSize(r, 1<<20), file: file, next: 1}
}

// readLine returns the next physical line without its line ending; io.EOF at the end.
func (r *csvReader) readLine() ([]byte, error) {
	l, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.acc = append(r.acc[:0], l...)
		for err == bufio.ErrBufferFull {
			l, err = r.br.ReadSlice('\n')
			r.acc = append(r.acc, l...)
			if len(r.acc) > maxRecordBytes {
				return nil, fmt.Errorf("%s:%d:1: line longer than %d bytes; expected a CSV table", r.file, r.next, maxRecordBytes)
			}
		}
		l = r.acc
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s:%d:1: %w", r.file, r.next, err)
	}
	if len(l) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	r.next++
	l = bytes.TrimSuffix(l, []byte{'\n'})
	l = bytes.TrimSuffix(l, []byte{'\r'})
	return l, nil
}

const maxRecordBytes = 16 << 20

// read returns the next record's fields; io.EOF at the end. Blank lines are skipped.
func (r *csvReader) read() ([][]byte, error) {
	for {
		r.line = r.next
		l, err := r.readLine()
		if err != nil {
			return nil, err
		}
		if len(l) == 0 {
			continue
		}
		if bytes.IndexByte(l, '"') < 0 {
			r.fields, r.starts = r.fields[:0], r.starts[:0]
			col := 1
			for {
				i := bytes.IndexByte(l, ',')
				r.starts = append(r.starts, col)
				if i < 0 {
					r.fields = append(r.fields, l)
					break
				}
				r.fields = append(r.fields, l[:i])
				l = l[i+1:]
				col += i + 1
			}
			return r.fields, nil
		}
		return r.readQuoted(l)
	}
}

// readQuoted parses a record with quotes, reading more lines while a quoted field is open.
func (r *csvReader) readQuoted(l []byte) ([][]byte, error) {
	buf := r.quoted[:0]
	var ends []int
	r.starts = r.starts[:0]
	col, i := 1, 0
	for {
		r.starts = append(r.starts, col)
		if i < len(l) && l[i] == '"' {
			i++
			col++
			for {
				if i >= len(l) {
					// the quoted field goes on in the next line
					more, err := r.readLine()
					if err == io.EOF {
						return nil, fmt.Errorf("%s:%d:%d: quoted field not closed at the end of the file; expected a closing quote", r.file, r.line, r.starts[len(r.starts)-1])
					}
					if err != nil {
						return nil, err
					}
					buf = append(buf, '\n')
					l, i = more, 0
					continue
				}
				c := l[i]
				if c == '"' {
					if i+1 < len(l) && l[i+1] == '"' {
						buf = append(buf, '"')
						i += 2
						col += 2
						continue
					}
					i++
					col++
					break
				}
				buf = append(buf, c)
				i++
				col++
			}
			if i < len(l) && l[i] != ',' {
				return nil, fmt.Errorf("%s:%d:%d: text after a closing quote; expected a comma", r.file, r.line, col)
			}
		} else {
			j := bytes.IndexByte(l[i:], ',')
			if j < 0 {
				j = len(l) - i
			}
			if q := bytes.IndexByte(l[i:i+j], '"'); q >= 0 {
				return nil, fmt.Errorf("%s:%d:%d: quote inside an unquoted field; expected the field to be quoted", r.file, r.line, col+q)
			}
			buf = append(buf, l[i:i+j]...)
			i += j
			col += j
		}
		ends = append(ends, len(buf))
		if i >= len(l) {
			break
		}
		i++ // the comma
		col++
	}
	r.quoted = buf
	r.fields = r.fields[:0]
	from := 0
	for _, e := range ends {
		r.fields = append(r.fields, buf[from:e])
		from = e
	}
	return r.fields, nil
}

// header reads the header line and indexes its names, lower-cased and trimmed.
func (r *csvReader) header() (map[string]int, error) {
	h, err := r.read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s:1:1: empty file; expected a header line", r.file)
	}
	if err != nil {
		return nil, err
	}
	idx := make(map[string]int, len(h))
	for i, f := range h {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(string(f), "\ufeff")))
		if _, dup := idx[name]; dup {
			return nil, fmt.Errorf("%s:1:%d: duplicate column %q; expected each column once", r.file, r.starts[i], name)
		}
		idx[name] = i
	}
	return idx, nil
}

// columns finds the named columns (each given as alternatives "a|b"); a missing one is
// named in the error.
func columns(file string, idx map[string]int, names ...string) ([]int, error) {
	out := make([]int, len(names))
	for k, n := range names {
		out[k] = -1
		for _, alt := range strings.Split(n, "|") {
			if i, ok := idx[alt]; ok {
				out[k] = i
				break
			}
		}
		if out[k] < 0 {
			return nil, fmt.Errorf("%s:1:1: no column %s; expected it in the header", file, strings.ReplaceAll(n, "|", " or "))
		}
	}
	return out, nil
}

// optional is the column's index or -1.
func optional(idx map[string]int, name string) int {
	if i, ok := idx[name]; ok {
		return i
	}
	return -1
}

// cellError is a bad cell: file, line, column and what was expected.
func (r *csvReader) cellError(field int, name, reason string) error {
	col := 1
	if field < len(r.starts) {
		col = r.starts[field]
	}
	return &CellError{File: r.file, Line: r.line, Column: col, Field: name, Reason: reason}
}

// CellError is a bad cell or row of a native table.
type CellError struct {
	File         string
	Line, Column int
	Field        string
	Reason       string
}

func (e *CellError) Error() string {
	return fmt.Sprintf("%s:%d:%d: column %s: %s", e.File, e.Line, e.Column, e.Field, e.Reason)
}
