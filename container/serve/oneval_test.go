package serve_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

const rawHeader = "subject_id,prescription_start,prescription_drug,prescription_dose_val_rx,prescription_dose_unit_rx,pre_charttime,pre_ph,pre_baseexcess,post_charttime,post_ph,post_baseexcess"

// W5, W6, W7: a case is checked the same whatever its encoding: magnitudes over
// 1e9, negative doses, duplicate keys and keys in another case are 400s naming
// the field, in JSON, JSON Lines and CSV alike.
func TestOneValidationWhateverTheEncoding(t *testing.T) {
	ts := startLoaded(t, newFake())
	rx := `{"drug":"a","dose":1,"unit":"mg"}`
	for _, tt := range []struct {
		name, ct, body, want string
	}{
		{"json pre 1e30", "application/json", `{"cases":[{"pre":{"ph":1e30},"prescriptions":[` + rx + `]}]}`, "cases[0].pre.ph: 1e+30; expected a finite number of magnitude at most 1e9"},
		{"jsonl pre 1e30", "application/jsonlines", `{"pre":{"ph":1e30},"prescriptions":[` + rx + `]}`, "line 1: pre.ph: 1e+30; expected a finite number"},
		{"csv pre 1e30", "text/csv", "subject_id,prescription_start,prescription_drug,prescription_dose_val_rx,prescription_dose_unit_rx,pre_ph\n1,2125-01-01,a,1,mg,1e30\n", "magnitude at most 1e9"},
		{"json embedding 3e38", "application/json", `[{"prescriptions":[{"embedding":[0.1,0.1,3e38,0.1],"dose":1,"unit":"mg"}]}]`, "cases[0].prescriptions[0].embedding[2]: 3e+38; expected a finite number of magnitude at most 1e9"},
		{"json dose -5", "application/json", `[{"prescriptions":[{"drug":"a","dose":-5,"unit":"mg"}]}]`, "cases[0].prescriptions[0].dose: -5; expected a non-negative number"},
		{"csv dose -5", "text/csv", "subject_id,prescription_start,prescription_drug,prescription_dose_val_rx,prescription_dose_unit_rx\n1,2125-01-01,a,-5,mg\n", "group (1, 2125-01-01): prescriptions[0].dose: -5; expected a non-negative number"},
		{"json duplicate key", "application/json", `{"cases":[{"pre":{"ph":7.3,"ph":99},"prescriptions":[` + rx + `]}]}`, "cases[0].pre.ph: given twice"},
		{"json escaped duplicate", "application/json", `{"cases":[{"pre":{"ph":7.3,"p\u0068":99},"prescriptions":[` + rx + `]}]}`, "cases[0].pre.ph: given twice"},
		{"json duplicate field", "application/json", `[{"id":"a","id":"b","prescriptions":[` + rx + `]}]`, "cases[0].id: given twice"},
		{"json Pre and pre", "application/json", `{"cases":[{"pre":{"ph":7.3},"Pre":{"pco2":40},"prescriptions":[` + rx + `]}]}`, `cases[0].Pre: unknown field; expected "pre"`},
		{"jsonl DOSE", "application/jsonlines", `{"prescriptions":[` + rx + `]}` + "\n" + `{"prescriptions":[{"drug":"a","DOSE":2,"unit":"mg"}]}`, `line 2: prescriptions[0].DOSE: unknown field; expected "dose"`},
	} {
		a := post(t, ts.url, tt.ct, []byte(tt.body))
		if a.status != http.StatusBadRequest || !strings.Contains(a.errorText(t), tt.want) {
			t.Errorf("%s: %d %s, want 400 %q", tt.name, a.status, a.body, tt.want)
		}
	}
	// The same values in bounds are answered.
	if a := post(t, ts.url, "application/json", []byte(`{"cases":[{"pre":{"ph":7.3},"prescriptions":[`+rx+`]}]}`)); a.status != http.StatusOK {
		t.Errorf("valid case: %d %s", a.status, a.body)
	}
}

// W9: a byte order mark before a header-less CSV body is not part of the first
// subject id; before a JSON body it is not malformed JSON.
func TestBOMIsNotData(t *testing.T) {
	ts := startLoaded(t, withHeader{newFake(), strings.Split(rawHeader, ",")})
	row := "10013,2125-10-05T00:00:00,Vasopressin,2,UNIT,2125-10-04T23:59:00,7.3,-1.0,2125-10-05T00:44:00,7.31,\n"
	a := post(t, ts.url, "text/csv", []byte("\ufeff"+row))
	if a.status != http.StatusOK {
		t.Fatalf("%d %s", a.status, a.body)
	}
	_, keys, _ := decodeCSV(t, a.body)
	if len(keys) != 1 || keys[0][0] != "10013" {
		t.Errorf("echoed subject %q, want 10013", keys)
	}
	if a := post(t, ts.url, "application/json", []byte("\ufeff"+`[{"prescriptions":[{"drug":"a","dose":1,"unit":"mg"}]}]`)); a.status != http.StatusOK {
		t.Errorf("JSON with a BOM: %d %s", a.status, a.body)
	}
}

// P9: a compressed body is refused as such (415 naming the encoding), not
// reported as malformed JSON.
func TestContentEncodingRefused(t *testing.T) {
	ts := startLoaded(t, newFake())
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`[{"prescriptions":[{"drug":"a","dose":1,"unit":"mg"}]}]`))
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.url+"/invocations", &b)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: body}
	if a.status != http.StatusUnsupportedMediaType || !strings.Contains(a.errorText(t), `unsupported Content-Encoding "gzip"`) {
		t.Errorf("gzip body: %d %s, want 415 naming gzip", a.status, body)
	}
}
