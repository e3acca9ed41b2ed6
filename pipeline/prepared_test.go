package pipeline

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteReadPreparedRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, input := range []string{"testdata/final_small.csv", "testdata/raw_small.csv", "testdata/synthetic_small.csv"} {
		t.Run(filepath.Base(input), func(t *testing.T) {
			ds, _ := readOne(t, ReadOptions{}, input)
			sc, err := FitScaler(ds.Samples, ds.Layout)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "ds")
			if err := WritePrepared(ctx, dst, ds, sc, ReadOptions{}); err != nil {
				t.Fatal(err)
			}
			got, gotSc, err := ReadPrepared(ctx, dst, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			assertSamplesEqual(t, ds.Samples, got.Samples)
			if gotSc == nil || !slices.Equal(gotSc.Units, sc.Units) || gotSc.DoseMean != sc.DoseMean {
				t.Fatal("scaler not read back")
			}
			if got.Layout.EmbeddingDim != ds.Layout.EmbeddingDim || !slices.Equal(got.Layout.Analytes, ds.Layout.Analytes) {
				t.Fatalf("layout %+v", got.Layout)
			}
			if len(got.Sources) != 1 || got.Sources[0] != ds.Sources[0] {
				t.Fatalf("sources %+v", got.Sources)
			}
			if ok, err := IsPrepared(ctx, dst); !ok || err != nil {
				t.Fatalf("IsPrepared = %v, %v", ok, err)
			}
			// without a scaler
			dst2 := filepath.Join(t.TempDir(), "noscaler")
			if err := WritePrepared(ctx, dst2, ds, nil, ReadOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, sc2, err := ReadPrepared(ctx, dst2, ReadOptions{}); err != nil || sc2 != nil {
				t.Fatalf("no scaler: %v, %v", sc2, err)
			}
		})
	}
}

func TestPreparedFormat(t *testing.T) {
	ctx := context.Background()
	ds, _ := readOne(t, ReadOptions{}, "testdata/final_small.csv")
	dst := filepath.Join(t.TempDir(), "ds")
	if err := WritePrepared(ctx, dst, ds, nil, ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	var m Manifest
	b, _ := os.ReadFile(filepath.Join(dst, "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Format != ManifestFormat || m.Version != 1 || m.Samples != 3 || m.Rows != 4 || m.Subjects != 2 {
		t.Fatalf("manifest %+v", m)
	}
	if got := m.Arrays["embeddings"].Shape; !slices.Equal(got, []int{4, 4}) {
		t.Fatalf("embeddings shape %v, want compact [4 4]", got)
	}
	// numpy's header: magic, version 1.0, a dict, total header length a multiple of 64
	raw, _ := os.ReadFile(filepath.Join(dst, "rx_offsets.npy"))
	hlen := int(binary.LittleEndian.Uint16(raw[8:10]))
	header := string(raw[10 : 10+hlen])
	if string(raw[:8]) != "\x93NUMPY\x01\x00" || (10+hlen)%64 != 0 || !strings.HasPrefix(header, "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }") || !strings.HasSuffix(header, "\n") {
		t.Fatalf("npy header %q", header)
	}
	offsets := bytesI64(raw[10+hlen:])
	if !slices.Equal([]int{int(offsets[0]), int(offsets[1]), int(offsets[2]), int(offsets[3])}, []int{0, 2, 3, 4}) {
		t.Fatalf("offsets %v", offsets)
	}

	// tampering is detected and named
	p := filepath.Join(dst, "doses.npy")
	d, _ := os.ReadFile(p)
	d[len(d)-1] ^= 1
	os.WriteFile(p, d, 0o644)
	if _, _, err := ReadPrepared(ctx, dst, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "doses.npy: checksum mismatch") {
		t.Fatalf("err = %v", err)
	}
	// not a dataset
	if ok, err := IsPrepared(ctx, t.TempDir()); ok || err != nil {
		t.Fatalf("IsPrepared(empty dir) = %v, %v", ok, err)
	}
	if ok, err := IsPrepared(ctx, "testdata/final_small.csv"); ok || err != nil {
		t.Fatalf("IsPrepared(file) = %v, %v", ok, err)
	}
}

func TestNpyDecodeRejects(t *testing.T) {
	good := encodeNpy(dtF4, []int{2}, f32Bytes([]float32{1, 2}))
	if d, sh, data, err := decodeNpy(good); err != nil || d != dtF4 || !slices.Equal(sh, []int{2}) || len(data) != 8 {
		t.Fatalf("decode good: %v %v %d %v", d, sh, len(data), err)
	}
	for name, b := range map[string][]byte{
		"short":   []byte("\x93NUM"),
		"magic":   append([]byte("XNUMPY"), good[6:]...),
		"fortran": []byte(strings.Replace(string(good), "False", "True ", 1)),
		"version": append(append([]byte{}, good[:6]...), append([]byte{9, 0}, good[8:]...)...),
	} {
		if _, _, _, err := decodeNpy(b); err == nil {
			t.Errorf("%s: decode succeeded", name)
		}
	}
}
