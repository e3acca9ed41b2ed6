package processing

import (
	"reflect"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// fill sets every sendable leaf of v to a non-zero value derived from n, so the round
// trip covers options added to PrepareOptions later without this test knowing them.
func fill(t *testing.T, v reflect.Value, prefix string, n *int) {
	t.Helper()
	typ := v.Type()
	for i := range typ.NumField() {
		f := typ.Field(i)
		path := prefix + f.Name
		if !f.IsExported() || notSent[path] {
			continue
		}
		fv := v.Field(i)
		*n++
		switch fv.Kind() {
		case reflect.Struct:
			fill(t, fv, path+".", n)
		case reflect.String:
			fv.SetString("v" + strings.Repeat("x", *n))
		case reflect.Bool:
			fv.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			fv.SetInt(int64(*n))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			fv.SetUint(uint64(*n))
		case reflect.Float32, reflect.Float64:
			fv.SetFloat(float64(*n) + 0.25)
		case reflect.Array:
			for k := range fv.Len() {
				fv.Index(k).SetFloat(float64(k) + 0.5)
			}
		case reflect.Slice:
			if fv.Type().Elem().Kind() == reflect.String {
				fv.Set(reflect.ValueOf([]string{"a", "b,c"}).Convert(fv.Type()))
			}
		}
	}
}

func TestArgumentsRoundTrip(t *testing.T) {
	var want pipeline.PrepareOptions
	n := 0
	fill(t, reflect.ValueOf(&want).Elem(), "", &n)
	want.Inputs, want.Output = []string{"s3://b/in/"}, "s3://b/out/"
	args, err := Arguments(want)
	if err != nil {
		t.Fatal(err)
	}
	if args[0] != Command {
		t.Fatalf("first argument %q, want %q", args[0], Command)
	}
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "Inputs=") || strings.HasPrefix(a, "Output=") {
			t.Errorf("argument %q: the job sets its own inputs and output", a)
		}
	}
	got, err := decodeOptions(args[1:])
	if err != nil {
		t.Fatal(err)
	}
	want.Inputs, want.Output = nil, ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v\nargs %q", got, want, args)
	}
}

func TestArgumentsOnlyNonZero(t *testing.T) {
	args, err := Arguments(pipeline.PrepareOptions{Seed: 7, Fractions: [3]float64{0.8, 0.1, 0.1}, OverflowPolicy: "split",
		Read: pipeline.ReadOptions{MaxGapHours: 48}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"prepare", "Seed=7", "Fractions=[0.8,0.1,0.1]", "OverflowPolicy=split", "Read.MaxGapHours=48"}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("args %q, want %q", args, want)
	}
}

func TestArgumentsRefuseWhatCannotTravel(t *testing.T) {
	_, err := Arguments(pipeline.PrepareOptions{Read: pipeline.ReadOptions{Request: pipeline.RequestOptions{EmbedDrug: func(string) ([]float32, error) { return nil, nil }}}})
	if err == nil || !strings.Contains(err.Error(), "Read.Request.EmbedDrug cannot be sent") {
		t.Errorf("func option: %v", err)
	}
	_, err = Arguments(pipeline.PrepareOptions{OverflowPolicy: strings.Repeat("x", 300)})
	if err == nil || !strings.Contains(err.Error(), "at most 256") {
		t.Errorf("long option: %v", err)
	}
}

func TestDecodeOptionsErrors(t *testing.T) {
	for _, tt := range []struct{ arg, want string }{
		{"Seed", `"Seed": expected OPTION=VALUE`},
		{"NoSuch=1", "unknown prepare option NoSuch"},
		{"Read.NoSuch=1", "unknown prepare option Read.NoSuch"},
		{"Seed=seven", "expected a int64 value"},
		{"Inputs=[\"/etc\"]", "Inputs is set by the job itself"},
		{"Read.S3=1", "Read.S3 is set by the job itself"},
		{"Read=1", "cannot be set by an argument"},
		{"Read.Request.EmbedDrug=1", "cannot be set by an argument"},
	} {
		if _, err := decodeOptions([]string{tt.arg}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.arg, err, tt.want)
		}
	}
}

func TestInputNamesCarryTheSplit(t *testing.T) {
	for _, tt := range []struct{ split, name string }{{"", "input-3"}, {"train", "train-3"}, {"test", "test-3"}} {
		name := InputName(tt.split, 3)
		got, err := splitOf(name)
		if name != tt.name || err != nil || got != tt.split {
			t.Errorf("InputName(%q) = %q, splitOf = %q, %v", tt.split, name, got, err)
		}
	}
	for _, bad := range []string{"data", "train", "other-1", "train-x"} {
		if _, err := splitOf(bad); err == nil {
			t.Errorf("splitOf(%q) accepted", bad)
		}
	}
}
