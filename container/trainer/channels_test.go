package trainer

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/container/optml"
)

func TestDiscoverChannels(t *testing.T) {
	const csv = "a,b\n1,2\n"
	// prepared stands in for pipeline.IsPrepared: the validation folder is a prepared dataset.
	prepared := func(_ context.Context, dir string) (bool, error) {
		return filepath.Base(dir) == "validation", nil
	}
	tests := []struct {
		name    string
		files   map[string]string
		want    map[string][]string // channel → table files relative to the channel folder
		prep    []string            // channels expected to be prepared
		ignored map[string][]string
	}{
		{
			name:  "train only, no inputdataconfig",
			files: map[string]string{"input/data/train/a.csv": csv},
			want:  map[string][]string{"train": {"a.csv"}},
		},
		{
			name: "nested folders, gz and ignored files",
			files: map[string]string{
				"input/data/train/part-b/2024/x.csv.gz": "gz",
				"input/data/train/part-a/y.CSV":         csv,
				"input/data/train/notes.txt":            "hi",
				"input/data/train/.hidden/z.csv":        csv,
				"input/data/train/.DS_Store":            "",
			},
			want:    map[string][]string{"train": {"part-a/y.CSV", "part-b/2024/x.csv.gz"}},
			ignored: map[string][]string{"train": {"notes.txt"}},
		},
		{
			name: "all three channels from inputdataconfig, one prepared",
			files: map[string]string{
				"input/config/inputdataconfig.json": `{"train":{"TrainingInputMode":"File"},"validation":{"TrainingInputMode":"FastFile"},"test":{}}`,
				"input/data/train/a.csv":            csv,
				"input/data/validation/manifest":    "{}",
				"input/data/test/t.csv":             csv,
			},
			want: map[string][]string{"train": {"a.csv"}, "validation": nil, "test": {"t.csv"}},
			prep: []string{"validation"},
		},
		{
			name: "inputdataconfig is authoritative over extra folders",
			files: map[string]string{
				"input/config/inputdataconfig.json": `{"train":{"TrainingInputMode":"File"}}`,
				"input/data/train/a.csv":            csv,
				"input/data/scratch/b.csv":          csv,
			},
			want: map[string][]string{"train": {"a.csv"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, withHP(tt.files))
			p := optml.Paths{Root: root}
			cfg, err := loadConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			chs, err := discoverChannels(context.Background(), p, cfg, prepared)
			if err != nil {
				t.Fatalf("discoverChannels: %v", err)
			}
			if len(chs) != len(tt.want) {
				t.Fatalf("got channels %v, want %v", keys(chs), tt.want)
			}
			for name, files := range tt.want {
				ch := chs[name]
				if ch == nil {
					t.Fatalf("channel %s missing", name)
				}
				var rel []string
				for _, f := range ch.Files {
					r, _ := filepath.Rel(ch.Dir, f)
					rel = append(rel, filepath.ToSlash(r))
				}
				if !reflect.DeepEqual(rel, files) {
					t.Errorf("channel %s files %v, want %v", name, rel, files)
				}
				wantPrep := contains(tt.prep, name)
				if ch.Prepared != wantPrep {
					t.Errorf("channel %s prepared=%v, want %v", name, ch.Prepared, wantPrep)
				}
				if !reflect.DeepEqual(ch.Ignored, tt.ignored[name]) {
					t.Errorf("channel %s ignored %v, want %v", name, ch.Ignored, tt.ignored[name])
				}
			}
		})
	}
}

func TestDiscoverChannelsErrors(t *testing.T) {
	const csv = "a,b\n1,2\n"
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no data folder", map[string]string{}, "missing train channel: folder input/data does not exist"},
		{"no train channel", map[string]string{"input/data/validation/v.csv": csv},
			"missing train channel: expected folder input/data/train with .csv or .csv.gz tables or a prepared dataset"},
		{"train listed but folder missing", map[string]string{"input/config/inputdataconfig.json": `{"train":{"TrainingInputMode":"File"}}`},
			"channel train: folder input/data/train is missing"},
		{"empty train channel", map[string]string{"input/data/train/.keep": ""},
			"channel train: no .csv or .csv.gz tables and no prepared dataset in input/data/train (it is empty)"},
		{"channel holding other files only", map[string]string{"input/data/train/data.parquet": "x"},
			"(it holds 1 other file(s), e.g. data.parquet)"},
		{"empty validation channel", map[string]string{"input/data/train/a.csv": csv, "input/data/validation/x/.keep": ""},
			"channel validation: no .csv or .csv.gz tables"},
		{"pipe mode in inputdataconfig", map[string]string{"input/config/inputdataconfig.json": `{"train":{"TrainingInputMode":"Pipe"}}`, "input/data/train_0": ""},
			"channel train: TrainingInputMode Pipe is not supported; use File or FastFile"},
		{"pipe mode FIFOs without inputdataconfig", map[string]string{"input/data/train_0": "", "input/data/train_1": ""},
			"channel train: TrainingInputMode Pipe is not supported"},
		{"unknown input mode", map[string]string{"input/config/inputdataconfig.json": `{"train":{"TrainingInputMode":"Stream"}}`},
			`channel train: unknown TrainingInputMode "Stream"; expected File or FastFile`},
		{"misnamed channel", map[string]string{"input/data/training/a.csv": csv},
			"unknown channel training; did you mean train?; expected train, validation, test"},
		{"unknown channel in inputdataconfig", map[string]string{"input/config/inputdataconfig.json": `{"train":{},"eval":{}}`, "input/data/train/a.csv": csv},
			"unknown channel eval; did you mean validation?"},
		{"train is a file", map[string]string{"input/config/inputdataconfig.json": `{"train":{}}`, "input/data/train": csv},
			"channel train: input/data/train is not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, withHP(tt.files))
			p := optml.Paths{Root: root}
			cfg, err := loadConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = discoverChannels(context.Background(), p, cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func withHP(files map[string]string) map[string]string {
	out := map[string]string{hpPath: "{}"}
	for k, v := range files {
		out[k] = v
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
