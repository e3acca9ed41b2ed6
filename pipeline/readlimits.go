package pipeline

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits bound what reading tables may consume. They are checked while streaming, so
// a decompression bomb, an endless line or a device file fails within its budget
// instead of exhausting memory or disk. A zero field takes its default.
type Limits struct {
	// FileBytes bounds the decompressed bytes of one table file.
	FileBytes int64
	// TotalBytes bounds the decompressed bytes of all tables of one read (one channel).
	TotalBytes int64
	// LineBytes bounds one record: a line, or a quoted record spanning lines.
	LineBytes int
	// Fields bounds the fields of one record.
	Fields int
	// Rows bounds the data rows of one read (one channel). Bytes alone cannot bound
	// memory: a table of tiny rows without ids makes one sample per row, about 60 times
	// the row's size.
	Rows int
}

// The defaults are far above the original tables (4 MB files, 2,182 rows of 3.7 KB,
// 184 columns) and keep a trainer reading a hostile file within a few hundred MiB.
const (
	DefaultMaxFileBytes  int64 = 4 << 30
	DefaultMaxTotalBytes int64 = 16 << 30
	DefaultMaxLineBytes        = 1 << 20
	DefaultMaxFields           = 16384
	DefaultMaxRows             = 500_000
)

// Environment variables that override the defaults (LimitsFromEnv); errors name them.
const (
	EnvMaxFileBytes  = "BLUEBLOOD_MAX_FILE_BYTES"
	EnvMaxTotalBytes = "BLUEBLOOD_MAX_CHANNEL_BYTES"
	EnvMaxLineBytes  = "BLUEBLOOD_MAX_LINE_BYTES"
	EnvMaxFields     = "BLUEBLOOD_MAX_FIELDS"
	EnvMaxRows       = "BLUEBLOOD_MAX_ROWS"
)

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	if l.FileBytes <= 0 {
		l.FileBytes = DefaultMaxFileBytes
	}
	if l.TotalBytes <= 0 {
		l.TotalBytes = DefaultMaxTotalBytes
	}
	if l.LineBytes <= 0 {
		l.LineBytes = DefaultMaxLineBytes
	}
	if l.Fields <= 0 {
		l.Fields = DefaultMaxFields
	}
	if l.Rows <= 0 {
		l.Rows = DefaultMaxRows
	}
	return l
}

// LimitsFromEnv reads the limits from the environment through getenv (os.Getenv or an
// injected one); unset variables keep the defaults. Values are byte counts, optionally
// with a binary suffix: 512KiB, 64MiB, 8GiB.
func LimitsFromEnv(getenv func(string) string) (Limits, error) {
	l := Limits{}.withDefaults()
	for _, v := range []struct {
		name string
		set  func(int64)
		max  int64
	}{
		{EnvMaxFileBytes, func(n int64) { l.FileBytes = n }, 1 << 50},
		{EnvMaxTotalBytes, func(n int64) { l.TotalBytes = n }, 1 << 50},
		// a line is held in memory several times over; above 1 GiB that is no limit
		{EnvMaxLineBytes, func(n int64) { l.LineBytes = int(n) }, 1 << 30},
		{EnvMaxFields, func(n int64) { l.Fields = int(n) }, 1 << 24},
		{EnvMaxRows, func(n int64) { l.Rows = int(n) }, 1 << 40},
	} {
		s := strings.TrimSpace(getenv(v.name))
		if s == "" {
			continue
		}
		n, err := parseByteCount(s)
		if err != nil || n < 1 || n > v.max {
			return Limits{}, fmt.Errorf("%s=%q: expected a whole number from 1 to %d (suffixes KiB, MiB, GiB allowed)", v.name, clip(s), v.max)
		}
		v.set(n)
	}
	return l, nil
}

func parseByteCount(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if t, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(t), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > (1<<62)/mult {
		return 0, strconv.ErrRange
	}
	return n * mult, nil
}

// LimitError is a read stopped by one of the Limits.
type LimitError struct {
	What  string // "decompressed bytes per file", ...
	Limit int64
	Env   string // the variable that raises it
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("more than %d %s; expected a table within the limit (set %s to raise it)", e.Limit, e.What, e.Env)
}

// checkRows fails the read when it has more rows than Limits.Rows; line is where the
// next row starts.
func (rd *tableReader) checkRows(file string, line int) error {
	if rd.rep.RowsRead < rd.budget.lim.Rows {
		return nil
	}
	return fmt.Errorf("%s:%d:1: %w", file, line, &LimitError{What: "rows over the tables of one read (channel)", Limit: int64(rd.budget.lim.Rows), Env: EnvMaxRows})
}

// intern returns one shared copy of s per distinct value: a substring of a row would
// keep the row's whole text alive for as long as the sample that holds it.
func (rd *tableReader) intern(s string) string {
	if v, ok := rd.interned[s]; ok {
		return v
	}
	if rd.interned == nil {
		rd.interned = map[string]string{}
	}
	s = strings.Clone(s)
	rd.interned[s] = s
	return s
}

// byteBudget counts decompressed bytes against a per-file and a shared total limit.
type byteBudget struct {
	lim  Limits
	used int64 // over all files so far
}

// limitReader fails a read that would pass the file's or the total budget; it never
// hands out bytes beyond either, so nothing over the limit is ever parsed.
type limitReader struct {
	r    io.Reader
	b    *byteBudget
	file int64
	err  error
}

func (b *byteBudget) reader(r io.Reader) *limitReader { return &limitReader{r: r, b: b} }

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	// Allow one byte past the limit so that a file of exactly the limit reads to EOF.
	room := min(l.b.lim.FileBytes-l.file, l.b.lim.TotalBytes-l.b.used) + 1
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.file += int64(n)
	l.b.used += int64(n)
	switch {
	case l.file > l.b.lim.FileBytes:
		l.err = &LimitError{What: "decompressed bytes in one file", Limit: l.b.lim.FileBytes, Env: EnvMaxFileBytes}
	case l.b.used > l.b.lim.TotalBytes:
		l.err = &LimitError{What: "decompressed bytes over the tables of one read (channel)", Limit: l.b.lim.TotalBytes, Env: EnvMaxTotalBytes}
	default:
		return n, err
	}
	return 0, l.err
}
