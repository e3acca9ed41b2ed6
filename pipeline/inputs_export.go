package pipeline

import (
	"context"
	"io"
)

// ListTables names the .csv and .csv.gz tables an input holds (a local file or folder,
// an s3:// object or prefix), sorted, as ReadTables would read them; format packages
// (pipeline/mimic) find their tables by these names.
func ListTables(ctx context.Context, in string, store ObjectStore) ([]string, error) {
	refs, err := expandInput(ctx, in, store)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.name
	}
	return names, nil
}

// TableStream is one opened table: its bytes, decompressed when gzip'd.
type TableStream struct {
	io.Reader
	t    *openedTable
	name string
}

// OpenTable opens a table ListTables named (a local path or s3://bucket/key); the
// stream is decompressed when the stored bytes are gzip.
func OpenTable(ctx context.Context, name string, store ObjectStore) (*TableStream, error) {
	ref := inputRef{name: name, local: name}
	if bucket, key, isS3, err := s3URL(name); err != nil {
		return nil, err
	} else if isS3 {
		ref = inputRef{name: name, bucket: bucket, key: key}
	}
	t, err := openRef(ctx, ref, store)
	if err != nil {
		return nil, err
	}
	return &TableStream{Reader: t, t: t, name: name}, nil
}

// Close releases the table.
func (s *TableStream) Close() error { return s.t.Close() }

// Source drains what is left of the stored bytes and returns the table's Source with
// its checksum and stored size; rows is the data rows the caller read.
func (s *TableStream) Source(rows int) (Source, error) {
	sum, n, err := s.t.finish()
	if err != nil {
		return Source{}, err
	}
	return Source{Path: s.name, SHA256: sum, Bytes: n, Rows: rows}, nil
}

// FillStats computes the group, subject, prescription and missing-rate figures of the
// samples into r, as ReadTables does, for format packages building their own Report.
func (r *Report) FillStats(samples []Sample, analytes []string) { r.fillStats(samples, analytes) }
