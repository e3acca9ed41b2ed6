package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/blueblood/blueblood/pipeline"
)

// request is a parsed invocation: the samples to predict and, per sample, the id and
// start to echo back.
type request struct {
	samples []pipeline.Sample
	ids     []string
	starts  []string
	csv     bool
	lines   bool // JSON Lines: case i is line i+1
	// CSV: the sample of each data row, and whether the body began with a header line
	rowSamples []int
	csvHeader  bool
	// effects is a JSON request's "effects" option (nil: not asked); drugs names each
	// case's prescription rows as the request did ("" for embeddings), for its answer;
	// explained holds the effects once computed.
	effects   *effectsOpt
	drugs     [][]string
	explained [][]RowEffect
}

// label names sample i in an error message the way the request named it.
func (r *request) label(i int) string {
	switch {
	case r.csv:
		return fmt.Sprintf("group (%s, %s)", r.ids[i], r.starts[i])
	case r.lines:
		return fmt.Sprintf("line %d", i+1)
	}
	return fmt.Sprintf("cases[%d]", i)
}

// field names field f of sample i: cases[2].pre.ph, line 3: pre.ph or
// group (7, 2125-01-01): pre.ph.
func (r *request) field(i int, f string) string {
	if r.csv || r.lines {
		return r.label(i) + ": " + f
	}
	return r.label(i) + "." + f
}

// at joins a case's path and one of its fields; a case read alone (a JSON line) has no
// path.
func at(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// caseT and rxT are a JSON case as decoded in the common, valid case: one pass, no
// intermediate copies. Pointers tell null or absent ("missing") from zero.
type caseT struct {
	ID            string              `json:"id"`
	Pre           map[string]*float32 `json:"pre"`
	Prescriptions []rxT               `json:"prescriptions"`
}

type rxT struct {
	Drug      *string         `json:"drug"`
	Embedding []float32       `json:"embedding"`
	Dose      *float32        `json:"dose"`
	Unit      json.RawMessage `json:"unit"`
}

// topT is the object form: {"cases": [...]} or one bare case.
type topT struct {
	Cases   []caseT     `json:"cases"`
	Effects *effectsOpt `json:"effects"`
	caseT
}

// parseJSON accepts {"cases": [...]}, a JSON array of cases, or one bare case. Valid
// bodies are decoded once into typed cases; a body that does not decode is walked again
// by diagnoseJSON, level by level, to name the exact field that is wrong.
func parseJSON(body []byte, lm *loadedModel) (*request, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body; expected a JSON object with \"cases\"")
	}
	var cases []caseT
	var effects *effectsOpt
	switch body[0] {
	case '[':
		if strictDecode(body, &cases) != nil {
			return nil, diagnoseJSON(body)
		}
	case '{':
		var top topT
		if strictDecode(body, &top) != nil {
			return nil, diagnoseJSON(body)
		}
		effects = top.Effects
		bare := top.ID != "" || top.Pre != nil || top.Prescriptions != nil
		switch {
		case top.Cases != nil && !bare:
			cases = top.Cases
		case top.Cases == nil && top.Prescriptions != nil:
			cases = []caseT{top.caseT}
		default: // cases mixed with case fields, "cases": null, or neither
			return nil, diagnoseJSON(body)
		}
	default:
		return nil, errors.New("malformed JSON: expected an object or an array of cases")
	}
	if len(cases) == 0 {
		return nil, errors.New("cases: expected at least one case")
	}
	req := &request{
		samples: make([]pipeline.Sample, len(cases)),
		ids:     make([]string, len(cases)),
		starts:  make([]string, len(cases)),
		effects: effects,
		drugs:   make([][]string, len(cases)),
	}
	for i := range cases {
		if err := buildSample(&cases[i], fmt.Sprintf("cases[%d]", i), lm, &req.samples[i]); err != nil {
			return nil, err
		}
		req.ids[i] = cases[i].ID
		req.drugs[i] = drugNames(cases[i].Prescriptions)
	}
	return req, nil
}

// buildSample checks a decoded case against the model and fills s.
func buildSample(c *caseT, path string, lm *loadedModel, s *pipeline.Sample) error {
	if c.Prescriptions == nil {
		return fmt.Errorf("%s: missing; expected a list of prescriptions", at(path, "prescriptions"))
	}
	if len(c.Prescriptions) > lm.maxRx {
		return fmt.Errorf("%s: %d prescriptions; the model takes at most %d", at(path, "prescriptions"), len(c.Prescriptions), lm.maxRx)
	}
	*s = newSample(len(lm.layout.Analytes), c.ID)
	// names in sorted order, so the error for several unknown analytes is stable
	names := make([]string, 0, len(c.Pre))
	for name := range c.Pre {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		idx, ok := lm.index[name]
		if !ok {
			return fmt.Errorf("%s: unknown analyte %q; the model knows %s", at(path, "pre."+name), name, strings.Join(lm.layout.Analytes, ", "))
		}
		if v := c.Pre[name]; v != nil {
			s.Pre[idx], s.PreObserved[idx] = *v, true
		}
	}
	dim := lm.layout.EmbeddingDim
	s.Embeddings = make([][]float32, 0, len(c.Prescriptions))
	for j := range c.Prescriptions {
		rx := &c.Prescriptions[j]
		rpath := at(path, fmt.Sprintf("prescriptions[%d]", j))
		var emb []float32
		name := "" // the drug's name where the row gives one: learned drugs are found by it
		switch {
		case rx.Drug != nil && rx.Embedding != nil:
			return fmt.Errorf("%s: both drug and embedding given; expected one of them", rpath)
		case rx.Embedding != nil && lm.drugs == pipeline.DrugsNames:
			return fmt.Errorf("%s.embedding: this model was trained on %s; %s", rpath, lm.drugs, drugAdvice(lm))
		case rx.Drug != nil && lm.drugs != "" && embedded(lm.drugs):
			return fmt.Errorf("%s.drug: a drug name, but this model was trained on %s; %s", rpath, lm.drugs, drugAdvice(lm))
		case rx.Embedding != nil:
			if len(rx.Embedding) != dim {
				return fmt.Errorf("%s.embedding: %d values; expected %d", rpath, len(rx.Embedding), dim)
			}
			emb = rx.Embedding
		case rx.Drug != nil:
			name = strings.TrimSpace(*rx.Drug)
			if name == "" {
				return fmt.Errorf("%s.drug: empty; expected a drug name", rpath)
			}
			var err error
			if emb, err = embedDrug(lm, name); err != nil {
				return fmt.Errorf("%s.drug: %w", rpath, err)
			}
		default:
			return fmt.Errorf("%s: missing drug or embedding; expected one of them", rpath)
		}
		dose := float32(math.NaN())
		if rx.Dose != nil {
			if dose = *rx.Dose; dose < 0 {
				return fmt.Errorf("%s.dose: %v; expected a non-negative number", rpath, dose)
			}
		}
		unit, err := parseUnit(rx.Unit)
		if err == nil {
			err = checkUnit(lm, unit)
		}
		if err != nil {
			return fmt.Errorf("%s.unit: %w", rpath, err)
		}
		s.Embeddings = append(s.Embeddings, emb)
		s.Doses = append(s.Doses, dose)
		s.Units = append(s.Units, unit)
		s.Drugs = append(s.Drugs, name)
	}
	return nil
}

// diagnoseJSON finds the first problem in a body that did not decode, naming the field
// with its indices (cases[2].prescriptions[0].dose) and what was expected. It decodes
// level by level through json.RawMessage, which is slower than the typed pass but runs
// only for bad requests.
func diagnoseJSON(body []byte) error {
	var raw []json.RawMessage
	switch body[0] {
	case '[':
		if err := strictDecode(body, &raw); err != nil {
			return fieldError("cases", err)
		}
	default:
		var top map[string]json.RawMessage
		if err := strictDecode(body, &top); err != nil {
			return fieldError("", err)
		}
		c, ok := top["cases"]
		if !ok {
			raw = []json.RawMessage{body}
			break
		}
		for _, k := range slices.Sorted(maps.Keys(top)) {
			if k != "cases" && k != "effects" {
				return fmt.Errorf("unknown field %q beside \"cases\"; expected only \"cases\" and \"effects\"", k)
			}
		}
		if e, ok := top["effects"]; ok {
			var opt effectsOpt
			if err := strictDecode(e, &opt); err != nil {
				return fieldError("effects", err)
			}
		}
		if err := strictDecode(c, &raw); err != nil {
			return fieldError("cases", err)
		}
		if raw == nil {
			return errors.New("cases: expected an array of cases, got null")
		}
	}
	for i, rc := range raw {
		if err := diagnoseCase(rc, fmt.Sprintf("cases[%d]", i)); err != nil {
			return err
		}
	}
	return errors.New("malformed JSON: expected {\"cases\": [...]}, an array of cases or one case")
}

func diagnoseCase(raw json.RawMessage, path string) error {
	var c struct {
		ID            string                     `json:"id"`
		Pre           map[string]json.RawMessage `json:"pre"`
		Prescriptions []json.RawMessage          `json:"prescriptions"`
	}
	if err := strictDecode(raw, &c); err != nil {
		return fieldError(path, err)
	}
	if c.Prescriptions == nil {
		return fmt.Errorf("%s: missing; expected a list of prescriptions", at(path, "prescriptions"))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Pre)) {
		if _, _, err := parseNumber(c.Pre[name]); err != nil {
			return fmt.Errorf("%s: %w", at(path, "pre."+name), err)
		}
	}
	for j, rr := range c.Prescriptions {
		rpath := at(path, fmt.Sprintf("prescriptions[%d]", j))
		var rx struct {
			Drug      *string         `json:"drug"`
			Embedding []float64       `json:"embedding"`
			Dose      json.RawMessage `json:"dose"`
			Unit      json.RawMessage `json:"unit"`
		}
		if err := strictDecode(rr, &rx); err != nil {
			return fieldError(rpath, err)
		}
		for k, f := range rx.Embedding {
			if _, err := toFloat32(f); err != nil {
				return fmt.Errorf("%s.embedding[%d]: %w", rpath, k, err)
			}
		}
		if _, _, err := parseNumber(rx.Dose); err != nil {
			return fmt.Errorf("%s.dose: %w", rpath, err)
		}
		if _, err := parseUnit(rx.Unit); err != nil {
			return fmt.Errorf("%s.unit: %w", rpath, err)
		}
	}
	return nil
}

// newSample returns an empty sample for n analytes; Post stays unobserved since it is
// what we predict.
func newSample(n int, subject string) pipeline.Sample {
	return pipeline.Sample{
		Subject:      subject,
		Pre:          make([]float32, n),
		PreObserved:  make([]bool, n),
		Post:         make([]float32, n),
		PostObserved: make([]bool, n),
	}
}

func embedDrug(lm *loadedModel, name string) ([]float32, error) {
	return lm.csvOptions.Request.EmbedName(name, lm.layout.EmbeddingDim)
}

// checkUnit rejects units outside the model's training vocabulary, naming them.
func checkUnit(lm *loadedModel, unit string) error {
	if lm.m.KnownUnit(unit) {
		return nil
	}
	if unit == "" {
		return errors.New("missing; expected a dose unit such as mg or a numeric unit code")
	}
	return fmt.Errorf("unknown unit %q; the model was not trained with it", unit)
}

// parseNumber reads a JSON number or null (absent: missing).
func parseNumber(raw json.RawMessage) (v float32, present bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, false, fmt.Errorf("expected a number or null, got %s", describeJSON(raw))
	}
	v, err = toFloat32(f)
	return v, err == nil, err
}

// parseUnit reads a unit as text ("mg") or as the final table's numeric code (7);
// absent or null is the empty unit, which checkUnit accepts only if training saw it.
func parseUnit(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return pipeline.NormalizeUnit(s), nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return pipeline.NormalizeUnit(string(raw)), nil
	}
	return "", fmt.Errorf("expected a string or a numeric unit code, got %s", describeJSON(raw))
}

func toFloat32(f float64) (float32, error) {
	v := float32(f)
	if math.IsInf(float64(v), 0) {
		return 0, fmt.Errorf("%g is out of float32 range", f)
	}
	return v, nil
}

var errTrailingData = errors.New("unexpected data after the JSON value")

// strictDecode decodes one JSON value, rejecting unknown fields and trailing data.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailingData
	}
	return nil
}

// fieldError turns a decoding error into a message naming the field and what was
// expected.
func fieldError(path string, err error) error {
	join := func(field string) string {
		switch {
		case path == "":
			return field
		case field == "":
			return path
		}
		return path + "." + field
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Errorf("%s: expected %s, got %s", orBody(join(typeErr.Field)), describeType(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fmt.Errorf("%s: unknown field; expected %s", orBody(join(field)), knownFields(path))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("malformed JSON: %s ends early", orBody(path))
	}
	return fmt.Errorf("%s: %v", orBody(path), err)
}

func orBody(field string) string {
	if field == "" {
		return "body"
	}
	return field
}

func knownFields(path string) string {
	if strings.HasSuffix(path, "]") && strings.Contains(path, "prescriptions[") {
		return "drug or embedding, dose, unit"
	}
	return "id, pre, prescriptions"
}

func describeType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "serve."), strings.HasPrefix(goType, "struct"):
		return "an object"
	case strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "int"):
		return "a number"
	case goType == "string", goType == "*string":
		return "a string"
	}
	return goType
}

func describeJSON(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "":
		return "nothing"
	case s[0] == '"':
		return "a string"
	case s[0] == '{':
		return "an object"
	case s[0] == '[':
		return "an array"
	case s == "true" || s == "false":
		return "a boolean"
	}
	return s
}
