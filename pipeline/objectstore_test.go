package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline/memstore"
)

func TestNoObjectStoreIsAOneLineError(t *testing.T) {
	ctx := context.Background()
	ds, _, err := ReadTables(ctx, []string{"testdata/final_small.csv"}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"read tables": func() error {
			_, _, err := ReadTables(ctx, []string{"s3://bucket/in/x.csv"}, ReadOptions{})
			return err
		},
		"read prepared": func() error {
			_, _, err := ReadPrepared(ctx, "s3://bucket/prep", ReadOptions{})
			return err
		},
		"write prepared": func() error { return WritePrepared(ctx, "s3://bucket/prep", ds, nil, ReadOptions{}) },
		"is prepared": func() error {
			_, err := IsPrepared(ctx, "s3://bucket/prep")
			return err
		},
		"prepare": func() error {
			_, err := Prepare(ctx, PrepareOptions{Inputs: []string{"testdata/synthetic_small.csv"}, Output: "s3://bucket/prep"})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil || !strings.HasPrefix(err.Error(), "s3://bucket/") || !strings.Contains(err.Error(), "no S3 client configured") {
				t.Fatalf("err = %v, want an s3://bucket/...: no S3 client configured error", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans several lines: %q", err)
			}
		})
	}
	// local paths never need a store
	dir := filepath.Join(t.TempDir(), "prep")
	if err := WritePrepared(ctx, dir, ds, nil, ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := IsPrepared(ctx, dir); !ok || err != nil {
		t.Fatalf("IsPrepared(%s) = %v, %v", dir, ok, err)
	}
}

func TestObjectStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := memstore.New(nil)
	small, err := os.ReadFile("testdata/synthetic_small.csv")
	if err != nil {
		t.Fatal(err)
	}
	m.Put(ctx, "raw", "t/a.csv.gz", bytes.NewReader(gzipBytes(t, small)), int64(len(gzipBytes(t, small))))
	m.Put(ctx, "raw", "t/notes.txt", strings.NewReader("x"), 1)
	opt := ReadOptions{S3: m}
	local, _, err := ReadTables(ctx, []string{"testdata/synthetic_small.csv"}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Prepare(ctx, PrepareOptions{Inputs: []string{"s3://raw/t"}, Output: "s3://out/p", Seed: 1, Read: opt})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sp := range sum.Splits {
		if ok, err := IsPreparedWith(ctx, sp.Path, opt); !ok || err != nil {
			t.Fatalf("IsPreparedWith(%s) = %v, %v", sp.Path, ok, err)
		}
		got, _, err := ReadPrepared(ctx, sp.Path, opt)
		if err != nil {
			t.Fatal(err)
		}
		total += len(got.Samples)
	}
	if total != len(local.Samples) {
		t.Fatalf("splits hold %d samples, want %d", total, len(local.Samples))
	}

	// a failed upload deletes what was already written
	f := memstore.New(nil)
	f.FailPut = "bad/" + manifestName
	err = WritePrepared(ctx, "s3://b/bad", local, nil, ReadOptions{S3: f})
	if err == nil || !strings.Contains(err.Error(), "s3://b/bad/"+manifestName) {
		t.Fatalf("err = %v, want the failing object named", err)
	}
	if keys, _ := f.List(ctx, "b", ""); len(keys) != 0 {
		t.Fatalf("left behind %q", keys)
	}
}
