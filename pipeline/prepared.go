package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Prepared dataset format identifiers.
const (
	ManifestFormat  = "blueblood-prepared-dataset"
	ManifestVersion = 1
	manifestName    = "manifest.json"
)

// ArrayInfo describes one .npy file of a prepared dataset.
type ArrayInfo struct {
	File   string `json:"file"`
	Dtype  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	SHA256 string `json:"sha256"`
}

// SampleID names one sample of a prepared dataset, in array order.
type SampleID struct {
	Subject string `json:"subject"`
	Start   string `json:"start"`
}

// Manifest is manifest.json of a prepared dataset. The arrays are:
//
//	pre.npy, post.npy                   float32 (samples, analytes), original units
//	pre_observed.npy, post_observed.npy bool    (samples, analytes); post_observed is the mask
//	rx_offsets.npy                      int64   (samples+1,): sample i owns rows [o[i], o[i+1])
//	embeddings.npy                      float32 (rows, embedding_dim)
//	doses.npy                           float32 (rows,), original units, NaN = missing
//	units.npy                           int32   (rows,): index into unit_values
//	drugs.npy                           int32   (rows,): index into drug_values, -1 = no
//	                                    name; only when drug_values is set (tables with names)
type Manifest struct {
	Format     string               `json:"format"`
	Version    int                  `json:"version"`
	Layout     Layout               `json:"layout"`
	Samples    int                  `json:"samples"`
	Rows       int                  `json:"prescription_rows"`
	Subjects   int                  `json:"subjects"`
	Arrays     map[string]ArrayInfo `json:"arrays"`
	UnitValues []string             `json:"unit_values"`
	DrugValues []string             `json:"drug_values,omitempty"`
	IDs        []SampleID           `json:"ids"`
	Scaler     *Scaler              `json:"scaler,omitempty"`
	Sources    []Source             `json:"sources"`
	// Header is the source tables' shared header line (Dataset.Header), so a model trained
	// on the prepared data still reads rows sent without one; absent when they differed.
	Header []string `json:"header,omitempty"`
}

// WritePrepared writes ds (and sc, when not nil) as a prepared dataset at dst, a local
// directory or an s3:// prefix. Local output appears atomically; on S3 manifest.json is
// written last and a failed write deletes what it uploaded.
func WritePrepared(ctx context.Context, dst string, ds *Dataset, sc *Scaler, opt ReadOptions) error {
	sk, err := newSink(dst, opt.S3)
	if err != nil {
		return err
	}
	if err := writePrepared(ctx, sk, "", ds, sc); err != nil {
		sk.abort(ctx)
		return err
	}
	return sk.commit(ctx)
}

func writePrepared(ctx context.Context, sk sink, prefix string, ds *Dataset, sc *Scaler) error {
	l := ds.Layout
	na, dim := len(l.Analytes), l.EmbeddingDim
	n := len(ds.Samples)
	if sc != nil {
		if err := sc.Check(l); err != nil {
			return err
		}
	}
	rows := 0
	unitSet := map[string]bool{}
	for i := range ds.Samples {
		s := &ds.Samples[i]
		if len(s.Pre) != na || len(s.Post) != na || len(s.PreObserved) != na || len(s.PostObserved) != na {
			return fmt.Errorf("sample %d (%s %s): expected %d pre and post values", i, s.Subject, s.Start, na)
		}
		if !rowsOf(s.Embeddings, dim) || len(s.Embeddings) != s.NumRx() || len(s.Units) != s.NumRx() {
			return fmt.Errorf("sample %d (%s %s): expected %d embedding rows of %d values and %d units for %d prescriptions", i, s.Subject, s.Start, s.NumRx(), dim, s.NumRx(), s.NumRx())
		}
		for _, u := range s.Units {
			unitSet[u] = true
		}
		rows += s.NumRx()
	}
	units, code := sortedCodes(unitSet)
	// arrays are filled in place at their final size: datasets can be large
	pre, post := make([]byte, 0, 4*n*na), make([]byte, 0, 4*n*na)
	preObs, postObs := make([]byte, 0, n*na), make([]byte, 0, n*na)
	offsets := make([]byte, 0, 8*(n+1))
	emb := make([]byte, 0, 4*rows*dim)
	doses, unitIdx := make([]byte, 0, 4*rows), make([]byte, 0, 4*rows)
	subjects := map[string]bool{}
	ids := make([]SampleID, n)
	offsets = binary.LittleEndian.AppendUint64(offsets, 0)
	at := 0
	for i := range ds.Samples {
		s := &ds.Samples[i]
		pre = appendF32(pre, s.Pre)
		post = appendF32(post, s.Post)
		preObs = appendBools(preObs, s.PreObserved)
		postObs = appendBools(postObs, s.PostObserved)
		for _, e := range s.Embeddings {
			emb = appendF32(emb, e)
		}
		doses = appendF32(doses, s.Doses)
		for _, u := range s.Units {
			unitIdx = binary.LittleEndian.AppendUint32(unitIdx, uint32(code[u]))
		}
		at += s.NumRx()
		offsets = binary.LittleEndian.AppendUint64(offsets, uint64(at))
		ids[i] = SampleID{Subject: s.Subject, Start: s.Start}
		subjects[s.Subject] = true
	}
	m := Manifest{
		Format: ManifestFormat, Version: ManifestVersion, Layout: l,
		Samples: n, Rows: rows, Subjects: len(subjects),
		Arrays: map[string]ArrayInfo{}, UnitValues: units, IDs: ids, Scaler: sc, Sources: ds.Sources,
		Header: ds.Header,
	}
	type array struct {
		name, dtype string
		shape       []int
		data        []byte
	}
	arrays := []array{
		{"pre", dtF4, []int{n, na}, pre},
		{"pre_observed", dtB1, []int{n, na}, preObs},
		{"post", dtF4, []int{n, na}, post},
		{"post_observed", dtB1, []int{n, na}, postObs},
		{"rx_offsets", dtI8, []int{n + 1}, offsets},
		{"embeddings", dtF4, []int{rows, dim}, emb},
		{"doses", dtF4, []int{rows}, doses},
		{"units", dtI4, []int{rows}, unitIdx},
	}
	if drugValues, drugIdx := drugArray(ds.Samples, rows); drugValues != nil {
		m.DrugValues = drugValues
		arrays = append(arrays, array{"drugs", dtI4, []int{rows}, drugIdx})
	}
	for _, a := range arrays {
		if err := ctx.Err(); err != nil {
			return err
		}
		file := a.name + ".npy"
		b := encodeNpy(a.dtype, a.shape, a.data)
		sum := sha256.Sum256(b)
		m.Arrays[a.name] = ArrayInfo{File: file, Dtype: a.dtype, Shape: a.shape, SHA256: hex.EncodeToString(sum[:])}
		if err := sk.put(ctx, joinName(prefix, file), b); err != nil {
			return err
		}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return sk.put(ctx, joinName(prefix, manifestName), append(mb, '\n'))
}

func joinName(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

// ReadPrepared reads a prepared dataset from a local directory or s3:// prefix, checking
// every array's checksum and shape. The scaler is nil when none was stored.
func ReadPrepared(ctx context.Context, src string, opt ReadOptions) (*Dataset, *Scaler, error) {
	so, err := newSource(src, opt.S3, opt.Limits.FileBytes)
	if err != nil {
		return nil, nil, err
	}
	mb, err := so.get(ctx, manifestName)
	if err != nil {
		return nil, nil, err
	}
	var m Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: invalid manifest: %v", so.where(manifestName), err)
	}
	mfail := func(format string, a ...any) error {
		return fmt.Errorf("%s: %s", so.where(manifestName), fmt.Sprintf(format, a...))
	}
	if m.Format != ManifestFormat {
		return nil, nil, mfail("format %q: expected %q", m.Format, ManifestFormat)
	}
	if m.Version != ManifestVersion {
		return nil, nil, mfail("version %d: expected %d", m.Version, ManifestVersion)
	}
	l := m.Layout
	na, dim, n, rows := len(l.Analytes), l.EmbeddingDim, m.Samples, m.Rows
	if len(m.IDs) != n {
		return nil, nil, mfail("%d ids for %d samples", len(m.IDs), n)
	}
	type spec struct {
		dtype string
		shape []int
	}
	want := map[string]spec{
		"pre": {dtF4, []int{n, na}}, "pre_observed": {dtB1, []int{n, na}},
		"post": {dtF4, []int{n, na}}, "post_observed": {dtB1, []int{n, na}},
		"rx_offsets": {dtI8, []int{n + 1}}, "embeddings": {dtF4, []int{rows, dim}},
		"doses": {dtF4, []int{rows}}, "units": {dtI4, []int{rows}},
	}
	if m.DrugValues != nil {
		want["drugs"] = spec{dtI4, []int{rows}}
	}
	data := map[string][]byte{}
	for name, w := range want {
		info, ok := m.Arrays[name]
		if !ok {
			return nil, nil, mfail("array %q missing", name)
		}
		if strings.Contains(info.File, "/") || strings.Contains(info.File, "..") {
			return nil, nil, mfail("array %q file %q: expected a plain file name", name, info.File)
		}
		b, err := so.get(ctx, info.File)
		if err != nil {
			return nil, nil, err
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != info.SHA256 {
			return nil, nil, fmt.Errorf("%s: checksum mismatch: expected sha256 %s", so.where(info.File), info.SHA256)
		}
		descr, shape, raw, err := decodeNpy(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", so.where(info.File), err)
		}
		if descr != w.dtype || !slices.Equal(shape, w.shape) {
			return nil, nil, fmt.Errorf("%s: dtype %s shape %v: expected %s %v", so.where(info.File), descr, shape, w.dtype, w.shape)
		}
		size := itemSize(descr)
		for _, d := range shape {
			size *= d
		}
		if len(raw) != size {
			return nil, nil, fmt.Errorf("%s: %d data bytes: expected %d", so.where(info.File), len(raw), size)
		}
		data[name] = raw
	}
	pre, post := bytesF32(data["pre"]), bytesF32(data["post"])
	preObs, postObs := data["pre_observed"], data["post_observed"]
	offsets := bytesI64(data["rx_offsets"])
	emb, doses, units := bytesF32(data["embeddings"]), bytesF32(data["doses"]), bytesI32(data["units"])
	if offsets[0] != 0 || offsets[n] != int64(rows) {
		return nil, nil, mfail("rx_offsets must run from 0 to %d", rows)
	}
	ds := &Dataset{Layout: l, Sources: m.Sources, Samples: make([]Sample, n), Header: m.Header}
	var embs embeddingSet // rows shared per distinct embedding, as the CSV readers share them
	for i := 0; i < n; i++ {
		lo, hi := offsets[i], offsets[i+1]
		if hi < lo {
			return nil, nil, mfail("rx_offsets decrease at sample %d", i)
		}
		s := Sample{
			Subject: m.IDs[i].Subject, Start: m.IDs[i].Start,
			Pre: pre[i*na : (i+1)*na : (i+1)*na], Post: post[i*na : (i+1)*na : (i+1)*na],
			PreObserved: make([]bool, na), PostObserved: make([]bool, na),
			Embeddings: make([][]float32, hi-lo),
			Doses:      doses[lo:hi:hi],
			Units:      make([]string, hi-lo),
		}
		for j := 0; j < na; j++ {
			s.PreObserved[j] = preObs[i*na+j] != 0
			s.PostObserved[j] = postObs[i*na+j] != 0
		}
		for k := lo; k < hi; k++ {
			u := units[k]
			if u < 0 || int(u) >= len(m.UnitValues) {
				return nil, nil, fmt.Errorf("%s: unit index %d outside unit_values", so.where("units.npy"), u)
			}
			s.Units[k-lo] = m.UnitValues[u]
			s.Embeddings[k-lo] = embs.share(emb[k*int64(dim) : (k+1)*int64(dim)])
		}
		if d, ok := data["drugs"]; ok {
			if err := readDrugs(&s, bytesI32(d)[lo:hi], m.DrugValues); err != nil {
				return nil, nil, fmt.Errorf("%s: %v", so.where("drugs.npy"), err)
			}
		}
		ds.Samples[i] = s
	}
	if m.Scaler != nil {
		if err := m.Scaler.Check(l); err != nil {
			return nil, nil, mfail("%v", err)
		}
	}
	return ds, m.Scaler, nil
}

// IsPrepared reports whether the local directory path holds a prepared dataset; for an
// s3:// prefix, which needs an object store, use IsPreparedWith.
func IsPrepared(ctx context.Context, path string) (bool, error) {
	return IsPreparedWith(ctx, path, ReadOptions{})
}

// IsPreparedWith is IsPrepared for a local directory or an s3:// prefix read through
// opt.S3.
func IsPreparedWith(ctx context.Context, path string, opt ReadOptions) (bool, error) {
	_, _, isS3, err := s3URL(path)
	if err != nil {
		return false, err
	}
	var mb []byte
	if isS3 {
		so, err := newSource(path, opt.S3, opt.Limits.FileBytes)
		if err != nil {
			return false, err
		}
		s3so := so.(*s3Source)
		keys, err := listKeys(ctx, s3so.c, s3so.bucket, joinName(s3so.prefix, manifestName))
		if err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
		found := false
		for _, k := range keys {
			if k == joinName(s3so.prefix, manifestName) {
				found = true
			}
		}
		if !found {
			return false, nil
		}
		if mb, err = so.get(ctx, manifestName); err != nil {
			return false, err
		}
	} else {
		mb, err = readLocalFile(filepath.Join(path, manifestName), opt.Limits.withDefaults().FileBytes)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("%s: %w", path, unwrapPathErr(err))
		}
	}
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(mb, &head); err != nil {
		return false, nil
	}
	return head.Format == ManifestFormat, nil
}
