package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ReadOptions configures ReadTables and the prepared-dataset readers and writers.
type ReadOptions struct {
	// MaxBadRows is how many bad rows may be skipped (and counted in the report); 0 means
	// the first bad row fails the read.
	MaxBadRows int
	// MaxGapDays bounds the distance between a prescription group and the blood tests
	// joined to it when prescriptions and blood tests come as separate tables; 0 = no limit.
	MaxGapDays float64
	// MaxGapHours drops final-table groups whose pre_charttime or post_charttime lies
	// more than this many hours from the prescription date (counted in Report.Gaps);
	// 0 = no limit.
	MaxGapHours float64
	// MinusOneReal, when MinusOneDecided is set, lists the analytes whose -1.0 is a real
	// value instead of deciding from the data (the trainer reads its other channels with
	// the train channel's decision); Request.Layout, when set, takes precedence.
	MinusOneReal    []string
	MinusOneDecided bool
	// MinusOne overrides, for all or some analytes, the test that decides from the data
	// whether -1.0 is the missing code (minusone.go); the zero value decides every analyte
	// from the data. MinusOneDecided and Request.Layout take precedence.
	MinusOne MinusOneRule
	// EmbeddingDim is the width of the built-in text embedder for raw drug names;
	// 0 means DefaultEmbeddingDim.
	EmbeddingDim int
	// S3 is the object store behind s3:// inputs and outputs (s3store.FromEnv or
	// s3store.New build one from the aws-sdk-go-v2 client); nil means s3:// locations
	// fail with a "no S3 client configured" error, so local-only callers link no SDK.
	S3 ObjectStore
	// AllowMixedKinds reads final tables of different kinds together (with subject ids
	// and without, raw units and scaled 0..1, drug names and embeddings); off, such a
	// mix is a *MixedTablesError.
	AllowMixedKinds bool
	// Limits bound the bytes, record length and field count of what is read; zero
	// fields take the defaults. One ReadTables call shares one TotalBytes budget.
	Limits Limits
	// Request reads prediction requests against a trained model (ReadTable in the
	// prediction server); training leaves it zero, so its checks stay as strict as the
	// tables need.
	Request RequestOptions
	// Pairing configures native clinical tables (pipeline/mimic); other formats ignore it.
	Pairing Pairing
}

// RequestOptions are the options that serve reading prediction requests.
type RequestOptions struct {
	// AllowMissingTargets lets a final table lack post_* columns (then every target is
	// unobserved), down to no analyte columns at all: any table without charttime is then
	// a final table, never a separate prescriptions table. Off, a pre_ column without its
	// post_ is an error, so a training table that lost its targets is not read as empty.
	AllowMissingTargets bool
	// Layout, when set, is the layout to read against instead of learning one: analyte
	// columns may be any subset of its analytes (absent ones unobserved, samples in its
	// order), a column naming another analyte is an error, and embeddings must have its
	// width. Drug names are embedded at that width, EmbeddingDim is ignored.
	Layout *Layout
	// Strict turns what training tolerates into errors: columns the format does not know,
	// more than one drug source, empty drug names, and rows whose pre/post values differ
	// from their group's first row.
	Strict bool
	// MaxGroupRows fails a group with more prescription rows; 0 means no limit.
	MaxGroupRows int
	// EmbedDrug embeds raw drug names (trimmed); nil means EmbedText.
	EmbedDrug func(name string) ([]float32, error)
	// CheckUnit vets each normalised dose unit ("" when missing), e.g. against a model's
	// vocabulary; nil accepts every unit.
	CheckUnit func(unit string) error
	// RowSamples records, for each data row read, the index of the sample it joined
	// (Dataset.RowSamples), so an answer per input row can be given per group.
	RowSamples bool
}

// Source is one input table as read: where from, its checksum and size (of the stored,
// possibly compressed bytes) and how many data rows it had.
type Source struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Rows   int    `json:"rows"`
}

// Dataset is a set of samples with their shared layout and the tables they came from.
type Dataset struct {
	Layout  Layout   `json:"layout"`
	Samples []Sample `json:"-"`
	Sources []Source `json:"sources"`
	// Kind is the kind of the first final table read; nil for prepared datasets, joined
	// tables and reads with AllowMixedKinds.
	Kind *TableKind `json:"-"`
	// Header is the header line every table shares, so that rows sent without one can be
	// read in the training table's column order; nil for tables whose headers differ (no
	// one column order fits every row) and for prepared datasets written without one.
	Header []string `json:"-"`
	// RowSamples is, with ReadOptions.RowSamples, the sample index of each data row in
	// reading order; nil when a max gap dropped samples or tables were joined.
	RowSamples []int `json:"-"`
}

// DefaultBlockRows is the original model's block height: 20 prescription rows.
const DefaultBlockRows = 20

// ReadTables reads every input (local file or directory of .csv/.csv.gz, s3://bucket/key
// or s3://bucket/prefix) and groups the rows into samples. All tables must agree on the
// analytes and embedding width. Inputs that a registered Format claims (see
// RegisterFormat) are read by that format, and must then all be in it.
func ReadTables(ctx context.Context, inputs []string, opt ReadOptions) (*Dataset, *Report, error) {
	if len(inputs) == 0 {
		return nil, nil, errors.New("no inputs given")
	}
	f, err := formatOf(ctx, inputs, opt)
	if err != nil {
		return nil, nil, err
	}
	if f != nil {
		return f.Read(ctx, inputs, opt)
	}
	rd := newTableReader(ctx, opt)
	var refs []inputRef
	for _, in := range inputs {
		r, err := expandInput(ctx, in, rd.opt.S3)
		if err != nil {
			return nil, nil, err
		}
		refs = append(refs, r...)
	}
	rd.multi = len(refs) > 1
	for _, ref := range refs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if err := rd.readRef(ctx, ref); err != nil {
			return nil, nil, err
		}
	}
	return rd.finish()
}

// ReadTable reads one table from r the way ReadTables reads each input; name stands for
// the table in errors (name:line:col). Its Source has no checksum or size, as r is not a
// stored object.
func ReadTable(ctx context.Context, name string, r io.Reader, opt ReadOptions) (*Dataset, *Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	rd := newTableReader(ctx, opt)
	rows, err := rd.readCSV(name, rd.budget.reader(r))
	if err != nil {
		return nil, nil, err
	}
	if rows == 0 {
		return nil, nil, fmt.Errorf("%s:2:1: no rows after the header; expected at least one", name)
	}
	rd.sources = append(rd.sources, Source{Path: name, Rows: rows})
	rd.rep.Files++
	return rd.finish()
}

// tableReader accumulates samples over several tables.
type tableReader struct {
	ctx     context.Context
	opt     ReadOptions
	rep     Report
	multi   bool
	layout  Layout
	hasAnal bool
	dimSet  bool
	dimFrom string

	samples      []Sample
	index        map[string]int
	inconsistent []bool
	firstLine    []int // per sample, the line of its first row; kept only for Strict's errors
	rowSample    []int // per data row, its sample; kept only with ReadOptions.RowSamples
	rx           []rxRow
	// previous final-table row's group key and pre/post cells, and a reused buffer
	prevKey   string
	prevCells []string
	embBuf    []float32
	embs      embeddingSet // every row's embedding, shared per distinct value
	compacted int          // samples before this index are compacted (compact.go)
	blood     []bloodRow
	sources   []Source
	contents  sameContent       // decompressed content of each table read (see sameContent)
	budget    *byteBudget       // decompressed bytes read so far, against opt.Limits
	interned  map[string]string // units, shared (see intern)
	schema    *schema           // the last table's, for checkKind
	header    []string          // the header every table so far shares (see Dataset.Header)
	headerOK  bool              // no two tables' headers differed
	firstKind *TableKind        // the first final table's kind
	anFrom    string            // the table the analytes came from
	// per analyte: what finish needs to decide what -1.0 meant (minusone.go)
	minusOne []minusOneTally
	gaps     []groupGap // per sample index, final tables with chart times
}

func newTableReader(ctx context.Context, opt ReadOptions) *tableReader {
	rd := &tableReader{ctx: ctx, opt: opt, index: map[string]int{}, rep: Report{RejectReasons: map[string]int{}}, headerOK: true,
		budget: &byteBudget{lim: opt.Limits.withDefaults()}}
	if l := opt.Request.Layout; l != nil {
		// the given layout plays the part of an earlier table every table must agree with
		rd.layout = *l
		rd.layout.Analytes = slices.Clone(l.Analytes)
		rd.hasAnal, rd.dimSet, rd.dimFrom = true, true, "the given layout"
		rd.opt.EmbeddingDim = l.EmbeddingDim
	}
	return rd
}

func (rd *tableReader) readRef(ctx context.Context, ref inputRef) error {
	f, err := openRef(ctx, ref, rd.opt.S3)
	if err != nil {
		return err
	}
	defer f.Close()
	from := len(rd.samples)
	r, h := rd.contents.hashing(rd.budget.reader(f))
	rows, err := rd.readCSV(ref.name, r)
	if err != nil {
		return err
	}
	if err := rd.contents.check(ref.name, h); err != nil {
		return err
	}
	if err := rd.checkKind(rd.schema, from); err != nil {
		return err
	}
	sum, n, err := f.finish()
	if err != nil {
		return fmt.Errorf("%s: %w", ref.name, err)
	}
	rd.sources = append(rd.sources, Source{Path: ref.name, SHA256: sum, Bytes: n, Rows: rows})
	rd.rep.Files++
	return nil
}

// reject records a bad row, or fails when the budget of bad rows is spent.
func (rd *tableReader) reject(e *RowError) error {
	if rd.rep.RowsRejected >= rd.opt.MaxBadRows {
		if rd.opt.MaxBadRows > 0 {
			return fmt.Errorf("%w (more than %d bad rows)", e, rd.opt.MaxBadRows)
		}
		return e
	}
	rd.rep.RowsRejected++
	rd.rep.RejectReasons[e.Class]++
	if len(rd.rep.Rejected) < maxKeptRejections {
		rd.rep.Rejected = append(rd.rep.Rejected, e.Error())
	}
	return nil
}
