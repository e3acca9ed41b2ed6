package mimic

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// SynthOptions configures WriteSynth. Zero fields take the defaults.
type SynthOptions struct {
	Version  string // SynthIV (default) or SynthIII
	Subjects int    // default 100
	Seed     int64
	// LabRows is about how many labevents rows to write (default 300 per subject): more
	// rows at the same subjects means denser panels, not more prescriptions.
	LabRows int
	// Plain writes .csv instead of .csv.gz.
	Plain bool
}

// The generator's versions (launcher synth --format).
const (
	SynthIV  = "mimic-iv"
	SynthIII = "mimic-iii"
)

// SynthInfo is what WriteSynth wrote.
type SynthInfo struct {
	Subjects, Admissions, Prescriptions, LabRows int
	// KClEffect is the rise in potassium (mEq/L) per 20 mEq of potassium chloride given
	// 1 to 24 hours before a value: the effect a model should find.
	KClEffect float64
}

// synthDrug is one catalogue drug of the generator.
type synthDrug struct {
	name, route, unit string
	doses             []string // dose_val_rx texts, including ranges and thousands
}

var synthDrugs = []synthDrug{
	{"Potassium Chloride", "PO", "mEq", []string{"20", "40", "10-20", "20"}},
	{"Potassium Chloride", "IV", "mEq", []string{"20", "10", "40"}},
	{"Insulin", "SC", "UNIT", []string{"0-10", "2", "4", "6"}},
	{"Furosemide", "IV", "mg", []string{"20", "40", "80"}},
	{"0.9% Sodium Chloride", "IV", "mL", []string{"1,000", "500", "250"}},
	{"Magnesium Sulfate", "IV", "gm", []string{"2", "1-2", "4"}},
	{"5% Dextrose", "IV", "mL", []string{"250", "1,000"}},
	{"Calcium Gluconate", "IV", "gm", []string{"1", "2"}},
	{"Heparin", "SC", "UNIT", []string{"5000", "5,000"}},
	{"Acetaminophen", "PO", "mg", []string{"325-650", "650", "1,000", "see note"}},
	{"Multivitamins, IV", "IV", "mL", []string{"10"}},
}

// synthLab is one lab item: id, label, mean, sd, unit.
type synthLab struct {
	id        int64
	label     string
	mean, sd  float64
	unit      string
	fluid     string
	category  string
	decimals  int
	bloodGas  bool
	chemistry bool
}

var synthLabs = []synthLab{
	{50971, "Potassium", 4.1, 0.5, "mEq/L", "Blood", "Chemistry", 1, false, true},
	{50983, "Sodium", 139, 4, "mEq/L", "Blood", "Chemistry", 0, false, true},
	{50902, "Chloride", 103, 5, "mEq/L", "Blood", "Chemistry", 0, false, true},
	{50882, "Bicarbonate", 24, 4, "mEq/L", "Blood", "Chemistry", 0, false, true},
	{51006, "Urea Nitrogen", 25, 15, "mg/dL", "Blood", "Chemistry", 0, false, true},
	{50912, "Creatinine", 1.2, 0.6, "mg/dL", "Blood", "Chemistry", 1, false, true},
	{50931, "Glucose", 130, 40, "mg/dL", "Blood", "Chemistry", 0, false, true},
	{50868, "Anion Gap", 14, 3, "mEq/L", "Blood", "Chemistry", 0, false, true},
	{50960, "Magnesium", 2.0, 0.3, "mg/dL", "Blood", "Chemistry", 1, false, true},
	{50893, "Calcium, Total", 8.6, 0.6, "mg/dL", "Blood", "Chemistry", 1, false, true},
	{50970, "Phosphate", 3.5, 1, "mg/dL", "Blood", "Chemistry", 1, false, true},
	{51221, "Hematocrit", 31, 5, "%", "Blood", "Hematology", 1, false, true},
	{51222, "Hemoglobin", 10.4, 1.8, "g/dL", "Blood", "Hematology", 1, false, true},
	{51265, "Platelet Count", 220, 90, "K/uL", "Blood", "Hematology", 0, false, true},
	{51301, "White Blood Cells", 9, 4, "K/uL", "Blood", "Hematology", 1, false, true},
	{51237, "INR(PT)", 1.3, 0.3, "", "Blood", "Hematology", 1, false, false},
	{51274, "PT", 14, 3, "sec", "Blood", "Hematology", 1, false, false},
	{50820, "pH", 7.38, 0.07, "units", "Blood", "Blood Gas", 2, true, false},
	{50818, "pCO2", 42, 9, "mm Hg", "Blood", "Blood Gas", 0, true, false},
	{50821, "pO2", 110, 50, "mm Hg", "Blood", "Blood Gas", 0, true, false},
	{50802, "Base Excess", 0, 4, "mEq/L", "Blood", "Blood Gas", 0, true, false},
	{50804, "Calculated Total CO2", 25, 4, "mEq/L", "Blood", "Blood Gas", 0, true, false},
	{50822, "Potassium, Whole Blood", 4.1, 0.5, "mEq/L", "Blood", "Blood Gas", 1, true, false},
	{50816, "Oxygen", 50, 20, "%", "Blood", "Blood Gas", 0, true, false},
}

const (
	synthKClEffect = 0.25
	hour           = 3600
	day            = 86400
)

// WriteSynth writes native-shaped MIMIC tables of any size into dir (created): for
// MIMIC-IV hosp/{prescriptions,labevents,d_labitems,admissions} and icu/icustays, for
// MIMIC-III the upper-case tables in dir. The same options give the same bytes.
func WriteSynth(dir string, opt SynthOptions) (*SynthInfo, error) {
	if opt.Version == "" {
		opt.Version = SynthIV
	}
	if opt.Version != SynthIV && opt.Version != SynthIII {
		return nil, fmt.Errorf("format %q: expected %s or %s", opt.Version, SynthIV, SynthIII)
	}
	if opt.Subjects <= 0 {
		opt.Subjects = 100
	}
	if opt.LabRows <= 0 {
		opt.LabRows = 300 * opt.Subjects
	}
	g := &synthGen{opt: opt, iv: opt.Version == SynthIV, rng: rand.New(rand.NewPCG(uint64(opt.Seed), 0x6d696d6963)), info: &SynthInfo{KClEffect: synthKClEffect}}
	if err := g.open(dir); err != nil {
		return nil, err
	}
	err := g.write()
	if cerr := g.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return g.info, nil
}

type synthFile struct {
	f  *os.File
	zw *gzip.Writer
	w  *bufio.Writer
}

type synthGen struct {
	opt                      SynthOptions
	iv                       bool
	rng                      *rand.Rand
	info                     *SynthInfo
	rx, lab, items, adm, icu *synthFile
	buf                      []byte
	labID, rxID, hadm, stay  int64
}

func (g *synthGen) name(t string) string {
	ext := ".csv.gz"
	if g.opt.Plain {
		ext = ".csv"
	}
	if !g.iv {
		return strings.ToUpper(t) + ext
	}
	folder := "hosp"
	if t == tICUStays {
		folder = "icu"
	}
	return filepath.Join(folder, t+ext)
}

func (g *synthGen) open(dir string) error {
	var err error
	mk := func(t, header string) *synthFile {
		if err != nil {
			return nil
		}
		p := filepath.Join(dir, g.name(t))
		if err = os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil
		}
		var f *os.File
		if f, err = os.Create(p); err != nil {
			return nil
		}
		sf := &synthFile{f: f}
		var w io.Writer = f
		if !g.opt.Plain {
			sf.zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
			w = sf.zw
		}
		sf.w = bufio.NewWriterSize(w, 1<<20)
		if !g.iv {
			header = strings.ToUpper(header)
		}
		sf.w.WriteString(header + "\n")
		return sf
	}
	if g.iv {
		g.rx = mk(tPrescriptions, "subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,drug_type,drug,formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,form_val_disp,form_unit_disp,doses_per_24_hrs,route")
		g.lab = mk(tLabevents, "labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments")
		g.items = mk(tLabitems, "itemid,label,fluid,category")
		g.adm = mk(tAdmissions, "subject_id,hadm_id,admittime,dischtime,deathtime,admission_type")
		g.icu = mk(tICUStays, "subject_id,hadm_id,stay_id,first_careunit,last_careunit,intime,outtime,los")
	} else {
		g.rx = mk(tPrescriptions, "row_id,subject_id,hadm_id,icustay_id,startdate,enddate,drug_type,drug,drug_name_poe,drug_name_generic,formulary_drug_cd,gsn,ndc,prod_strength,dose_val_rx,dose_unit_rx,form_val_disp,form_unit_disp,route")
		g.lab = mk(tLabevents, "row_id,subject_id,hadm_id,itemid,charttime,value,valuenum,valueuom,flag")
		g.items = mk(tLabitems, "row_id,itemid,label,fluid,category,loinc_code")
		g.adm = mk(tAdmissions, "row_id,subject_id,hadm_id,admittime,dischtime,deathtime,admission_type")
		g.icu = mk(tICUStays, "row_id,subject_id,hadm_id,icustay_id,dbsource,first_careunit,last_careunit,intime,outtime,los")
	}
	return err
}

func (g *synthGen) close() error {
	var first error
	for _, sf := range []*synthFile{g.rx, g.lab, g.items, g.adm, g.icu} {
		if sf == nil {
			continue
		}
		err := sf.w.Flush()
		if sf.zw != nil && err == nil {
			err = sf.zw.Close()
		}
		if cerr := sf.f.Close(); err == nil {
			err = cerr
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// csvText quotes a cell when it holds a comma, a quote or a line break.
func csvText(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

func (g *synthGen) write() error {
	for k, l := range synthLabs {
		b := g.buf[:0]
		if !g.iv {
			b = strconv.AppendInt(b, int64(k+1), 10)
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, l.id, 10)
		b = append(b, ',')
		b = csvText(b, l.label)
		b = append(b, ',')
		b = append(b, l.fluid...)
		b = append(b, ',')
		b = append(b, l.category...)
		if !g.iv {
			b = append(b, ',')
		}
		b = append(b, '\n')
		g.items.w.Write(b)
		g.buf = b
	}
	perSubject := float64(g.opt.LabRows) / float64(g.opt.Subjects)
	for s := 0; s < g.opt.Subjects; s++ {
		if err := g.subject(s, perSubject); err != nil {
			return err
		}
	}
	g.info.Subjects = g.opt.Subjects
	return nil
}
