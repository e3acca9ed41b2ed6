package pipeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// ObjectStore is the object storage behind s3:// inputs and outputs, in plain Go types
// so that this package links no cloud SDK. Package pipeline/s3store adapts the
// aws-sdk-go-v2 S3 client to it; tests may inject anything that behaves like S3.
type ObjectStore interface {
	// Get opens the object's bytes; the caller closes the reader.
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, error)
	// List returns every key that starts with prefix (all pages), in any order.
	List(ctx context.Context, bucket, prefix string) ([]string, error)
	// Put stores size bytes read from body under key, replacing any object there.
	Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, bucket, key string) error
}

// storeFor returns the injected store or, when there is none, a one-line error naming
// the s3:// location that needed it.
func storeFor(uri string, store ObjectStore) (ObjectStore, error) {
	if store == nil {
		return nil, fmt.Errorf("%s: no S3 client configured; set ReadOptions.S3 (see package pipeline/s3store)", uri)
	}
	return store, nil
}

// s3URL splits s3://bucket/key; ok is false for anything that is not an s3:// URI.
func s3URL(u string) (bucket, key string, ok bool, err error) {
	if !strings.HasPrefix(u, "s3://") {
		return "", "", false, nil
	}
	bucket, key, err = ParseS3URI(u)
	return bucket, key, true, err
}

// ParseS3URI splits s3://bucket/key. S3 keys are not paths: "a/../b" is a key of its
// own, not "b", so a "." or ".." segment is refused rather than silently read from or
// written to a different place than the user meant. Every s3:// location the project
// accepts goes through here.
func ParseS3URI(u string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%s: expected s3://bucket/key", u)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" || bucket == "." || bucket == ".." {
		return "", "", fmt.Errorf("%s: expected s3://bucket/key", u)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return "", "", fmt.Errorf("%s: %q segment in the key; S3 keys are not paths, write the key without it", u, seg)
		}
	}
	return bucket, key, nil
}

// inputRef is one readable table: a local file or one S3 object.
type inputRef struct {
	name   string // as reported in errors and sources: a path or s3://bucket/key
	local  string
	bucket string
	key    string
}

func isTableName(n string) bool {
	l := strings.ToLower(n)
	return strings.HasSuffix(l, ".csv") || strings.HasSuffix(l, ".csv.gz")
}

// expandInput turns a path, directory, s3 object or s3 prefix into the tables it names,
// in sorted order so that reads are reproducible.
func expandInput(ctx context.Context, in string, store ObjectStore) ([]inputRef, error) {
	bucket, key, isS3, err := s3URL(in)
	if err != nil {
		return nil, err
	}
	if !isS3 {
		st, err := os.Stat(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in, unwrapPathErr(err))
		}
		if !st.IsDir() {
			return []inputRef{{name: in, local: in}}, nil
		}
		var refs []inputRef
		err = filepath.WalkDir(in, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != in && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && isTableName(d.Name()) && !strings.HasPrefix(d.Name(), ".") {
				refs = append(refs, inputRef{name: p, local: p})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
		if len(refs) == 0 {
			return nil, fmt.Errorf("%s: directory holds no .csv or .csv.gz files", in)
		}
		sort.Slice(refs, func(i, j int) bool { return refs[i].name < refs[j].name })
		return refs, nil
	}
	c, err := storeFor(in, store)
	if err != nil {
		return nil, err
	}
	keys, err := listKeys(ctx, c, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	var refs []inputRef
	for _, k := range keys {
		if k == key {
			return []inputRef{{name: in, bucket: bucket, key: key}}, nil
		}
	}
	dir := key
	if dir != "" && !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	for _, k := range keys {
		if strings.HasPrefix(k, dir) && isTableName(k) && !strings.HasPrefix(path.Base(k), ".") {
			refs = append(refs, inputRef{name: "s3://" + bucket + "/" + k, bucket: bucket, key: k})
		}
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("%s: no object or .csv/.csv.gz objects under this prefix", in)
	}
	return refs, nil
}

// openRegular opens a local file only if it is a regular file: a FIFO would block the
// open (or the read) forever and a device such as /dev/zero never ends. The type is
// checked before opening, so a FIFO is never opened, and again on the opened file.
func openRegular(name, p string) (*os.File, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, unwrapPathErr(err))
	}
	if err := RegularFile(name, st.Mode()); err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, unwrapPathErr(err))
	}
	if st, err = f.Stat(); err == nil {
		err = RegularFile(name, st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// RegularFile returns nil for a regular file mode and otherwise a one-line error naming
// what name is instead: a FIFO would block a reader forever and a device such as /dev/zero
// never ends.
func RegularFile(name string, mode fs.FileMode) error {
	if mode.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch t := mode.Type(); {
	case t&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case t&fs.ModeDevice != 0:
		what = "a device"
	case t&fs.ModeSocket != 0:
		what = "a socket"
	case t&fs.ModeDir != 0:
		what = "a directory"
	}
	return fmt.Errorf("%s: is %s; expected a regular file", name, what)
}

// readLocalFile reads a whole local file that must be regular and at most max bytes.
func readLocalFile(p string, max int64) ([]byte, error) {
	f, err := openRegular(p, p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %v", p, &LimitError{What: "bytes in one file", Limit: max, Env: EnvMaxFileBytes})
	}
	return b, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func listKeys(ctx context.Context, c ObjectStore, bucket, prefix string) ([]string, error) {
	keys, err := c.List(ctx, bucket, prefix)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	sort.Strings(keys)
	return keys, nil
}

// countingHash records the bytes and sha256 of what was read from the underlying
// stream (the stored bytes, before any decompression).
type countingHash struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (c *countingHash) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	return n, err
}

// openedTable is a decompressed stream over one table plus its source accounting.
type openedTable struct {
	io.Reader
	raw    *countingHash
	closer io.Closer
	gz     *gzip.Reader
}

func (o *openedTable) Close() error {
	if o.gz != nil {
		o.gz.Close()
	}
	return o.closer.Close()
}

// finish drains the raw stream so the checksum covers the whole object.
func (o *openedTable) finish() (sum string, n int64, err error) {
	if _, err := io.Copy(io.Discard, o.raw); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(o.raw.h.Sum(nil)), o.raw.n, nil
}

func openRef(ctx context.Context, ref inputRef, store ObjectStore) (*openedTable, error) {
	var rc io.ReadCloser
	if ref.local != "" {
		f, err := openRegular(ref.name, ref.local)
		if err != nil {
			return nil, err
		}
		rc = f
	} else {
		c, err := storeFor(ref.name, store)
		if err != nil {
			return nil, err
		}
		body, err := c.Get(ctx, ref.bucket, ref.key)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot read object: %w", ref.name, err)
		}
		rc = body
	}
	ch := &countingHash{r: rc, h: sha256.New()}
	br := bufio.NewReaderSize(ch, 256<<10)
	o := &openedTable{raw: ch, closer: rc}
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("%s: bad gzip stream: %w", ref.name, err)
		}
		o.gz = gz
		o.Reader = gzipErrReader{gz}
	} else {
		o.Reader = br
	}
	return o, nil
}

// gzipErrReader says what failed when a .gz stream is cut short or corrupt; the bare
// "unexpected EOF" of compress/gzip does not.
type gzipErrReader struct{ r io.Reader }

func (g gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("corrupt or truncated gzip data (%w); expected a complete .gz file", err)
	}
	return n, err
}

// sink receives the files of a prepared dataset; nothing is visible under the final
// name until commit.
type sink interface {
	put(ctx context.Context, name string, data []byte) error
	commit(ctx context.Context) error
	abort(ctx context.Context)
}

func newSink(dst string, store ObjectStore) (sink, error) {
	bucket, key, isS3, err := s3URL(dst)
	if err != nil {
		return nil, err
	}
	if isS3 {
		c, err := storeFor(dst, store)
		if err != nil {
			return nil, err
		}
		key = strings.TrimSuffix(key, "/")
		return &s3Sink{c: c, bucket: bucket, prefix: key}, nil
	}
	return newDirSink(dst)
}

// dirSink writes into a temporary sibling directory and renames it into place.
type dirSink struct {
	dst, tmp string
}

func newDirSink(dst string) (*dirSink, error) {
	dst = filepath.Clean(dst)
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", parent, unwrapPathErr(err))
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dst, unwrapPathErr(err))
	}
	// MkdirTemp creates 0700; the dataset should be as readable as any other output
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return &dirSink{dst: dst, tmp: tmp}, nil
}

func (d *dirSink) put(_ context.Context, name string, data []byte) error {
	p := filepath.Join(d.tmp, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

func (d *dirSink) commit(ctx context.Context) error {
	st, err := os.Stat(d.dst)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.Rename(d.tmp, d.dst); err != nil {
			d.abort(ctx)
			return fmt.Errorf("%s: %w", d.dst, err)
		}
		return nil
	case err != nil:
		d.abort(ctx)
		return fmt.Errorf("%s: %w", d.dst, unwrapPathErr(err))
	case !st.IsDir():
		d.abort(ctx)
		return fmt.Errorf("%s: exists and is not a directory", d.dst)
	}
	if !replaceable(d.dst) {
		d.abort(ctx)
		return fmt.Errorf("%s: exists and is neither empty nor a prepared dataset; refusing to replace it", d.dst)
	}
	old := d.tmp + ".old"
	if err := os.Rename(d.dst, old); err != nil {
		d.abort(ctx)
		return fmt.Errorf("%s: %w", d.dst, err)
	}
	if err := os.Rename(d.tmp, d.dst); err != nil {
		os.Rename(old, d.dst)
		d.abort(ctx)
		return fmt.Errorf("%s: %w", d.dst, err)
	}
	return os.RemoveAll(old)
}

// replaceable reports whether an existing directory may be swapped out: an empty
// directory or the output of an earlier run.
func replaceable(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	if len(ents) == 0 {
		return true
	}
	if _, err := os.Stat(filepath.Join(dir, manifestName)); err == nil {
		return true
	}
	_, err = os.Stat(filepath.Join(dir, "train", manifestName))
	return err == nil
}

func (d *dirSink) abort(context.Context) { os.RemoveAll(d.tmp) }

// s3Sink uploads objects as they come; callers write manifests last, so a reader never
// sees a manifest whose arrays are missing, and abort deletes what was uploaded.
type s3Sink struct {
	c       ObjectStore
	bucket  string
	prefix  string
	written []string
}

func (s *s3Sink) key(name string) string {
	if s.prefix == "" {
		return name
	}
	return s.prefix + "/" + name
}

func (s *s3Sink) put(ctx context.Context, name string, data []byte) error {
	k := s.key(name)
	err := s.c.Put(ctx, s.bucket, k, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("s3://%s/%s: cannot write object: %w", s.bucket, k, err)
	}
	s.written = append(s.written, k)
	return nil
}

func (s *s3Sink) commit(context.Context) error { return nil }

func (s *s3Sink) abort(ctx context.Context) {
	if ctx == nil {
		ctx = context.Background()
	}
	// best effort: the cleanup must run even when the write was cancelled
	ctx = context.WithoutCancel(ctx)
	for _, k := range s.written {
		s.c.Delete(ctx, s.bucket, k)
	}
}

// source reads the files of a prepared dataset.
type source interface {
	get(ctx context.Context, name string) ([]byte, error)
	where(name string) string
}

// newSource opens a prepared dataset; maxBytes bounds each file read from it (0: the
// default Limits.FileBytes).
func newSource(src string, store ObjectStore, maxBytes int64) (source, error) {
	maxBytes = Limits{FileBytes: maxBytes}.withDefaults().FileBytes
	bucket, key, isS3, err := s3URL(src)
	if err != nil {
		return nil, err
	}
	if isS3 {
		c, err := storeFor(src, store)
		if err != nil {
			return nil, err
		}
		return &s3Source{c: c, bucket: bucket, prefix: strings.TrimSuffix(key, "/"), max: maxBytes}, nil
	}
	return dirSource{dir: src, max: maxBytes}, nil
}

type dirSource struct {
	dir string
	max int64
}

func (d dirSource) where(name string) string {
	return filepath.Join(d.dir, filepath.FromSlash(name))
}

func (d dirSource) get(_ context.Context, name string) ([]byte, error) {
	return readLocalFile(d.where(name), d.max)
}

type s3Source struct {
	c              ObjectStore
	bucket, prefix string
	max            int64
}

func (s *s3Source) where(name string) string {
	if s.prefix == "" {
		return "s3://" + s.bucket + "/" + name
	}
	return "s3://" + s.bucket + "/" + s.prefix + "/" + name
}

func (s *s3Source) get(ctx context.Context, name string) ([]byte, error) {
	k := name
	if s.prefix != "" {
		k = s.prefix + "/" + name
	}
	body, err := s.c.Get(ctx, s.bucket, k)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read object: %w", s.where(name), err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, s.max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.where(name), err)
	}
	if int64(len(b)) > s.max {
		return nil, fmt.Errorf("%s: %v", s.where(name), &LimitError{What: "bytes in one file", Limit: s.max, Env: EnvMaxFileBytes})
	}
	return b, nil
}
