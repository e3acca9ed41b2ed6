package model

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
	"gorgonia.org/tensor"
)

// goldenArray is a little-endian array written by testdata/gen_golden.py.
type goldenArray struct {
	Dtype string `json:"dtype"`
	Shape []int  `json:"shape"`
	B64   string `json:"b64"`
}

func (g goldenArray) floats(t *testing.T) []float64 {
	raw, err := base64.StdEncoding.DecodeString(g.B64)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	switch g.Dtype {
	case "f4":
		for i := 0; i+4 <= len(raw); i += 4 {
			out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))))
		}
	case "f8":
		for i := 0; i+8 <= len(raw); i += 8 {
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
		}
	default:
		t.Fatalf("golden dtype %q", g.Dtype)
	}
	return out
}

func (g goldenArray) float32s(t *testing.T) []float32 {
	f := g.floats(t)
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out
}

type goldenFile struct {
	Arch          string `json:"arch"`
	Analytes      int    `json:"analytes"`
	EmbeddingDim  int    `json:"embedding_dim"`
	BlockRows     int    `json:"block_rows"`
	BlockFeatures int    `json:"block_features"`
	EncoderUnits  int    `json:"encoder_units"`
	LSTMUnits     int    `json:"lstm_units"`
	Batch         int    `json:"batch"`
	Samples       []struct {
		Pre      goldenArray `json:"pre"`
		PreObs   goldenArray `json:"pre_obs"`
		Post     goldenArray `json:"post"`
		PostMask goldenArray `json:"post_mask"`
		Rx       goldenArray `json:"rx"`
		N        int         `json:"n"`
	} `json:"samples"`
	Dropout     goldenArray            `json:"dropout"`
	Params      map[string]goldenArray `json:"params"`
	Pred        goldenArray            `json:"pred"`
	Loss        float64                `json:"loss"`
	Grads       map[string]goldenArray `json:"grads"`
	GradStrides map[string]int         `json:"grad_strides"`
}

// TestPyTorchGolden compares predictions, loss and every parameter gradient with an
// independent PyTorch implementation (testdata/gen_golden.py) from the same weights and
// samples, through the model's own batch filling, in float64 and float32.
func TestPyTorchGolden(t *testing.T) {
	for _, name := range []string{"seed", "pooled", "pooled_u130"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "golden_"+name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var gf goldenFile
			if err := json.Unmarshal(data, &gf); err != nil {
				t.Fatal(err)
			}
			names := make([]string, gf.Analytes)
			for j := range names {
				names[j] = "a" + strconv.Itoa(j)
			}
			cfg := Config{Architecture: gf.Arch, LSTMUnits: gf.LSTMUnits, EncoderUnits: gf.EncoderUnits,
				Layout: pipeline.Layout{Analytes: names, EmbeddingDim: gf.EmbeddingDim, BlockRows: gf.BlockRows, BlockFeatures: gf.BlockFeatures}}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			specs := paramSpecs(cfg)
			params := make([]float32, paramCount(specs))
			for _, s := range specs {
				v := gf.Params[s.Name].float32s(t)
				if len(v) != s.size() {
					t.Fatalf("golden %s has %d values, expected %d", s.Name, len(v), s.size())
				}
				copy(params[s.Off:], v)
			}
			var batch []*scaled
			for _, s := range gf.Samples {
				sc := &scaled{pre: s.Pre.float32s(t), preObs: s.PreObs.float32s(t), post: s.Post.float32s(t),
					postMask: s.PostMask.float32s(t), n: s.N}
				sc.emb, sc.du = splitRx(s.Rx.float32s(t), s.N, cfg.Layout.EmbeddingDim)
				batch = append(batch, sc)
			}
			m := &Model{cfg: cfg}
			rows := m.batchRows(batch)
			wantPred := gf.Pred.floats(t)
			for _, tc := range []struct {
				dt  tensor.Dtype
				tol float64
			}{
				// float64 graphs still stage inputs in float32, and the loss weights 1/count are
				// not float32-representable: ~1e-8 relative is the float64 floor
				{tensor.Float64, 1e-7},
				{tensor.Float32, 1e-5},
			} {
				ng, err := buildGraph(cfg, specs, params, graphKey{batch: gf.Batch, rows: rows, train: true}, tc.dt)
				if err != nil {
					t.Fatal(err)
				}
				ng.fill(cfg, batch, gf.Dropout.float32s(t))
				if err := ng.run(); err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				check := func(what string, got, want float64) {
					d := math.Abs(got-want) / math.Max(1, math.Abs(want))
					worst = math.Max(worst, d)
					if d > tc.tol {
						t.Errorf("%v %s: got %.12g, PyTorch %.12g", tc.dt, what, got, want)
					}
				}
				check("loss", ng.loss(), gf.Loss)
				pred := make([]float32, gf.Batch*gf.Analytes)
				ng.copyPred(pred)
				var pred64 []float64
				if tc.dt == tensor.Float64 {
					pred64 = (*ng.predV).Data().([]float64)
				}
				for i, w := range wantPred {
					got := float64(pred[i])
					if pred64 != nil {
						got = pred64[i]
					}
					check("pred["+strconv.Itoa(i)+"]", got, w)
				}
				grads := ng.grads64(paramCount(specs))
				for _, s := range specs {
					want := gf.Grads[s.Name].floats(t)
					stride := gf.GradStrides[s.Name]
					for k, w := range want {
						check(s.Name+"'["+strconv.Itoa(k*stride)+"]", grads[s.Off+k*stride], w)
					}
				}
				t.Logf("%v: worst relative difference %.3g", tc.dt, worst)
				ng.close()
			}
		})
	}
}
