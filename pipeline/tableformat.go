package pipeline

// tableFormat is one of the built-in CSV table formats: it recognises its tables from the
// header and reads their rows into the reader's samples (or rows held for a join).
type tableFormat interface {
	// detect reports whether the header's columns (parseHeader's schema) are this
	// format's; it only looks, check reports what is missing.
	detect(s *schema, opt *ReadOptions) bool
	// check verifies the columns the format requires, naming the first one missing.
	check(s *schema, opt *ReadOptions) error
	// begin adopts the table's analytes and embedding width, checked against earlier tables.
	begin(rd *tableReader, s *schema) error
	// row reads data row n (1-based) of the table.
	row(rd *tableReader, s *schema, p *rowParser, n int) *RowError
}

// tableFormats are the built-in table formats; at most one detects a given header.
var tableFormats = []tableFormat{finalTable{}, finalTable{raw: true}, rxTable{}, bloodTable{}}

// classify finds the table's format from its header and checks the format's columns.
func (s *schema) classify(opt *ReadOptions) error {
	for _, f := range tableFormats {
		if f.detect(s, opt) {
			s.format = f
			return f.check(s, opt)
		}
	}
	return &RowError{File: s.file, Line: 1, Column: 1, Class: ClassMalformed,
		Reason: "unrecognised table: expected pre_*/post_* columns, a prescriptions table (subject_id, prescription_start, drug or embedding, dose) or a blood-test table (subject_id, charttime, analytes)"}
}

// adoptLayout checks a table's analytes and embedding width against earlier tables.
func (rd *tableReader) adoptLayout(s *schema) error {
	if err := rd.adoptAnalytes(s); err != nil {
		return err
	}
	return rd.adoptDim(s)
}
