package mimic

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline"
)

// memStore is an in-memory pipeline.ObjectStore.
type memStore map[string][]byte

func (m memStore) Get(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	b, ok := m[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("NoSuchKey: %s", key)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m memStore) List(_ context.Context, bucket, prefix string) ([]string, error) {
	var out []string
	for k := range m {
		if b, key, _ := strings.Cut(k, "/"); b == bucket && strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	return out, nil
}

func (m memStore) Put(_ context.Context, bucket, key string, body io.Reader, _ int64) error {
	b, err := io.ReadAll(body)
	m[bucket+"/"+key] = b
	return err
}

func (m memStore) Delete(_ context.Context, bucket, key string) error {
	delete(m, bucket+"/"+key)
	return nil
}

// TestS3Prefix: a MIMIC folder under an s3:// prefix is detected and reads the same
// samples as the local folder.
func TestS3Prefix(t *testing.T) {
	dir, _ := synthDir(t, SynthOptions{Subjects: 20, Seed: 2})
	store := memStore{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			store["bkt/data/mimic/"+filepath.ToSlash(rel)] = b
		}
		return err
	})
	opt := pipeline.ReadOptions{S3: store}
	ok, err := Format{}.Detect(context.Background(), "s3://bkt/data/mimic", opt)
	if err != nil || !ok {
		t.Fatalf("Detect = %v, %v", ok, err)
	}
	remote, _, err := Format{}.Read(context.Background(), []string{"s3://bkt/data/mimic"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	local, _, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.DiffSamples(local.Samples, remote.Samples); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(remote.Sources[0].Path, "s3://bkt/data/mimic/") || remote.Sources[0].SHA256 != local.Sources[0].SHA256 {
		t.Fatalf("sources %+v vs %+v", remote.Sources[0], local.Sources[0])
	}
}

// TestDetect: MIMIC folders and their tables are claimed; the pipeline's own separate
// prescriptions and blood-test tables and final tables are not.
func TestDetect(t *testing.T) {
	dir, _ := synthDir(t, SynthOptions{Version: SynthIII, Subjects: 3, Seed: 2})
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "prescriptions.csv"), []byte("subject_id,starttime,drug,dose_val_rx\n1,2125-01-01,KCl,20\n"), 0o644)
	os.WriteFile(filepath.Join(other, "labevents.csv"), []byte("subject_id,charttime,ph\n1,2125-01-01,7.3\n"), 0o644)
	for in, want := range map[string]bool{
		dir: true, filepath.Join(dir, "LABEVENTS.csv.gz"): true, filepath.Join(dir, "PRESCRIPTIONS.csv.gz"): true,
		other: false, filepath.Join(other, "prescriptions.csv"): false,
		filepath.Join("..", "testdata", "synthetic_small.csv"): false,
		t.TempDir(): false, filepath.Join(other, "absent"): false,
	} {
		got, err := Format{}.Detect(context.Background(), in, pipeline.ReadOptions{})
		if err != nil || got != want {
			t.Errorf("Detect(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// TestReadFiles: the tables given one by one (as the trainer lists a channel's files)
// read as the folder does.
func TestReadFiles(t *testing.T) {
	dir, _ := synthDir(t, SynthOptions{Subjects: 10, Seed: 4})
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return err
	})
	a, _, err := Format{}.Read(context.Background(), []string{dir}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Format{}.Read(context.Background(), files, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.DiffSamples(a.Samples, b.Samples); err != nil {
		t.Fatal(err)
	}
}
