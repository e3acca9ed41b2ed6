package pipeline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// csvReader is a streaming RFC 4180 reader tuned for wide numeric tables: lines without
// quotes (nearly all rows of the original tables) are split in one pass with a single
// string allocation; quoted fields, doubled quotes and newlines inside quotes take a
// slower path. It reads what encoding/csv reads (FieldsPerRecord -1, no lazy quotes,
// empty lines skipped, \r\n normalised) and reports the same positions: 1-based line
// and byte column of each field's start.
type csvReader struct {
	br     *bufio.Reader
	lineNo int // lines consumed so far
	start  int // line of the current record's first line

	// The current record is one string and the bounds of its fields; keeping offsets
	// instead of a []string avoids a pointer write per field.
	rec    string
	bounds []int // start, end of field i at 2i, 2i+1
	cols   []int
	lines  []int // per-field line, only for records spanning lines
	multi  bool
	fields []string

	long []byte // a line longer than the bufio buffer
	buf  []byte // unquoted field contents of the slow path
	ends []int

	maxLine, maxFields int // Limits.LineBytes and Limits.Fields
}

// csvSyntaxError is a malformed record.
type csvSyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *csvSyntaxError) Error() string { return e.Msg }

// csvReadError is a failure of the underlying stream while reading line Line.
type csvReadError struct {
	Line int
	Err  error
}

func (e *csvReadError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *csvReadError) Unwrap() error { return e.Err }

var (
	errBareQuote = "bare \" in non-quoted field"
	errQuote     = "extraneous or missing \" in quoted field"
)

func newCSVReader(r io.Reader) *csvReader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 256<<10)
	}
	l := Limits{}.withDefaults()
	return &csvReader{br: br, maxLine: l.LineBytes, maxFields: l.Fields}
}

// setLimits applies l's record limits (zero fields keep the defaults).
func (r *csvReader) setLimits(l Limits) {
	l = l.withDefaults()
	r.maxLine, r.maxFields = l.LineBytes, l.Fields
}

// errLongRecord and errManyFields stop a record over the limits; the reader cannot
// resynchronise after them, so they end the read rather than count as bad rows.
func (r *csvReader) errLongRecord(line int) error {
	return &csvReadError{Line: line, Err: &LimitError{What: "bytes in one record", Limit: int64(r.maxLine), Env: EnvMaxLineBytes}}
}

func (r *csvReader) errManyFields() error {
	return &csvReadError{Line: r.start, Err: &LimitError{What: "fields in one record", Limit: int64(r.maxFields), Env: EnvMaxFields}}
}

// readLine returns the next physical line including its newline, valid until the next
// call; an empty result with io.EOF ends the input.
func (r *csvReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull && len(r.long) <= r.maxLine {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if len(line) > r.maxLine+2 { // the line ending does not count
		return nil, r.errLongRecord(r.lineNo + 1)
	}
	var le *LimitError
	if errors.As(err, &le) {
		// a byte budget is the file's, not the line's where the read-ahead hit it
		return nil, err
	}
	if err != nil && err != io.EOF {
		// A read error (a truncated .gz, a dropped connection) wins over the partial line
		// read before it, which would otherwise be parsed as a short record.
		return nil, &csvReadError{Line: r.lineNo + 1, Err: err}
	}
	if len(line) > 0 {
		r.lineNo++
		if err == io.EOF {
			err = nil
		}
	}
	return line, err
}

// trimEOL drops a trailing "\n" or "\r\n", and a lone trailing "\r" at the end of input,
// as encoding/csv does.
func trimEOL(l []byte) (out []byte, hadNL bool) {
	n := len(l)
	if n > 0 && l[n-1] == '\n' {
		n--
		hadNL = true
	}
	if n > 0 && l[n-1] == '\r' && (hadNL || n == len(l)) {
		n--
	}
	return l[:n], hadNL
}

// Read returns the next record; the slice is reused by the next call, the strings are not.
func (r *csvReader) Read() ([]string, error) {
	n, err := r.next()
	if err != nil {
		return nil, err
	}
	r.fields = r.fields[:0]
	for i := 0; i < n; i++ {
		r.fields = append(r.fields, r.Field(i))
	}
	return r.fields, nil
}

// Field returns field i of the current record.
func (r *csvReader) Field(i int) string { return r.rec[r.bounds[2*i]:r.bounds[2*i+1]] }

// next reads the next record and returns its number of fields.
func (r *csvReader) next() (int, error) {
	for {
		raw, err := r.readLine()
		if len(raw) == 0 {
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		r.start = r.lineNo
		l, hadNL := trimEOL(raw)
		if len(l) == 0 {
			continue
		}
		if bytes.IndexByte(l, '"') < 0 {
			if len(l) > r.maxLine {
				return 0, r.errLongRecord(r.start)
			}
			r.splitSimple(l)
			if len(r.cols) > r.maxFields {
				return 0, r.errManyFields()
			}
			return len(r.cols), nil
		}
		return r.parseQuoted(l, hadNL)
	}
}

func (r *csvReader) splitSimple(l []byte) {
	r.rec = string(l)
	r.bounds, r.cols, r.multi = r.bounds[:0], r.cols[:0], false
	from := 0
	for i, c := range l {
		if c == ',' {
			r.bounds = append(r.bounds, from, i)
			r.cols = append(r.cols, from+1)
			from = i + 1
		}
	}
	r.bounds = append(r.bounds, from, len(l))
	r.cols = append(r.cols, from+1)
}

func (r *csvReader) parseQuoted(l []byte, hadNL bool) (int, error) {
	r.buf, r.ends, r.cols, r.lines, r.multi = r.buf[:0], r.ends[:0], r.cols[:0], r.lines[:0], false
	line := r.start
	i := 0
	for {
		if len(r.cols) >= r.maxFields {
			return 0, r.errManyFields()
		}
		r.cols = append(r.cols, i+1)
		r.lines = append(r.lines, line)
		if i < len(l) && l[i] == '"' {
			fieldLine, fieldCol := line, i+1
			i++
			for {
				j := bytes.IndexByte(l[i:], '"')
				if j < 0 {
					// the quoted field goes on in the next line
					if !hadNL {
						return 0, &csvSyntaxError{Line: fieldLine, Column: fieldCol, Msg: errQuote}
					}
					r.buf = append(r.buf, l[i:]...)
					r.buf = append(r.buf, '\n')
					if len(r.buf) > r.maxLine {
						return 0, r.errLongRecord(r.start)
					}
					raw, err := r.readLine()
					if len(raw) == 0 {
						if err == nil || err == io.EOF {
							return 0, &csvSyntaxError{Line: fieldLine, Column: fieldCol, Msg: errQuote}
						}
						return 0, err
					}
					line = r.lineNo
					r.multi = true
					l, hadNL = trimEOL(raw)
					i = 0
					continue
				}
				r.buf = append(r.buf, l[i:i+j]...)
				i += j + 1
				if i < len(l) && l[i] == '"' {
					r.buf = append(r.buf, '"')
					i++
					continue
				}
				break
			}
			r.ends = append(r.ends, len(r.buf))
			if i == len(l) {
				return r.finishQuoted(), nil
			}
			if l[i] != ',' {
				// the malformed record ends with its line, which is consumed already
				return 0, &csvSyntaxError{Line: line, Column: i + 1, Msg: errQuote}
			}
			i++
			continue
		}
		j := bytes.IndexByte(l[i:], ',')
		f := l[i:]
		if j >= 0 {
			f = l[i : i+j]
		}
		if k := bytes.IndexByte(f, '"'); k >= 0 {
			return 0, &csvSyntaxError{Line: line, Column: i + k + 1, Msg: errBareQuote}
		}
		r.buf = append(r.buf, f...)
		r.ends = append(r.ends, len(r.buf))
		if j < 0 {
			return r.finishQuoted(), nil
		}
		i += j + 1
	}
}

func (r *csvReader) finishQuoted() int {
	r.rec = string(r.buf)
	r.bounds = r.bounds[:0]
	from := 0
	for _, e := range r.ends {
		r.bounds = append(r.bounds, from, e)
		from = e
	}
	return len(r.ends)
}

// FieldPos returns the line and byte column where field i of the last record starts.
func (r *csvReader) FieldPos(i int) (line, column int) {
	if i < 0 || i >= len(r.cols) {
		return r.start, 1
	}
	if r.multi {
		return r.lines[i], r.cols[i]
	}
	return r.start, r.cols[i]
}
