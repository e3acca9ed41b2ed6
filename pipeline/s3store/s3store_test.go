package s3store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/blueblood/blueblood/pipeline"
	"github.com/blueblood/blueblood/pipeline/s3store"
)

// The tests go through the real SDK client, over HTTP, to gofakes3 on 127.0.0.1.

// fakeS3 starts an in-process S3 server on 127.0.0.1 and returns a real SDK client for it.
func fakeS3(t *testing.T, buckets ...string) *s3.Client {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	for _, b := range buckets {
		if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	return c
}

func putObject(t *testing.T, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

func TestS3PrepareRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := fakeS3(t, "raw", "out")
	small, err := os.ReadFile("../testdata/synthetic_small.csv")
	if err != nil {
		t.Fatal(err)
	}
	// the same table split in two objects under a prefix, one of them gzipped, plus an
	// object that is not a table and must be ignored
	lines := strings.SplitAfter(string(small), "\n")
	header := lines[0]
	cut := len(lines) / 2
	for cut < len(lines) && strings.Split(lines[cut], ",")[0] == strings.Split(lines[cut-1], ",")[0] {
		cut++ // keep one subject's rows in one object
	}
	partA := strings.Join(lines[:cut], "")
	partB := header + strings.Join(lines[cut:], "")
	putObject(t, c, "raw", "tables/a.csv", []byte(partA))
	putObject(t, c, "raw", "tables/b.csv.gz", gzipBytes(t, []byte(partB)))
	putObject(t, c, "raw", "tables/README.txt", []byte("not a table"))

	opt := pipeline.ReadOptions{S3: s3store.New(c)}
	local, _, err := pipeline.ReadTables(ctx, []string{"../testdata/synthetic_small.csv"}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds, rep, err := pipeline.ReadTables(ctx, []string{"s3://raw/tables"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 2 || len(ds.Sources) != 2 {
		t.Fatalf("read %d files (%d sources), want 2", rep.Files, len(ds.Sources))
	}
	if len(ds.Samples) != len(local.Samples) {
		t.Fatalf("s3 read gave %d samples, local %d", len(ds.Samples), len(local.Samples))
	}

	sum, err := pipeline.Prepare(ctx, pipeline.PrepareOptions{Inputs: []string{"s3://raw/tables/"}, Output: "s3://out/prepared", Seed: 3, MaxPrescriptions: 20, Read: opt})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sp := range sum.Splits {
		ok, err := pipeline.IsPreparedWith(ctx, sp.Path, opt)
		if err != nil || !ok {
			t.Fatalf("pipeline.IsPrepared(%s) = %v, %v; want true", sp.Path, ok, err)
		}
		got, sc, err := pipeline.ReadPrepared(ctx, sp.Path, opt)
		if err != nil {
			t.Fatal(err)
		}
		if sc == nil || len(got.Samples) != sp.Samples {
			t.Fatalf("%s: read back %d samples (scaler %v), summary says %d", sp.Name, len(got.Samples), sc != nil, sp.Samples)
		}
		total += len(got.Samples)
	}
	if total != len(local.Samples) {
		t.Fatalf("splits hold %d samples, want %d", total, len(local.Samples))
	}
	if ok, err := pipeline.IsPreparedWith(ctx, "s3://out/prepared", opt); err != nil || ok {
		t.Fatalf("pipeline.IsPrepared(output root) = %v, %v; want false", ok, err)
	}

	// a single object by key
	ds1, _, err := pipeline.ReadTables(ctx, []string{"s3://raw/tables/a.csv"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds1.Sources) != 1 || ds1.Sources[0].Path != "s3://raw/tables/a.csv" || ds1.Sources[0].Bytes != int64(len(partA)) {
		t.Fatalf("sources %+v", ds1.Sources)
	}
}

func TestS3WritePreparedRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := fakeS3(t, "bkt")
	opt := pipeline.ReadOptions{S3: s3store.New(c)}
	ds, _, err := pipeline.ReadTables(ctx, []string{"../testdata/synthetic_small.csv"}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := pipeline.FitScaler(ds.Samples, ds.Layout)
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.WritePrepared(ctx, "s3://bkt/one", ds, sc, opt); err != nil {
		t.Fatal(err)
	}
	got, gotSc, err := pipeline.ReadPrepared(ctx, "s3://bkt/one", opt)
	if err != nil {
		t.Fatal(err)
	}
	assertSamplesEqual(t, ds.Samples, got.Samples)
	if gotSc == nil || !slices.Equal(gotSc.Units, sc.Units) {
		t.Fatalf("scaler not read back")
	}
}

func TestS3Errors(t *testing.T) {
	ctx := context.Background()
	c := fakeS3(t, "bkt")
	opt := pipeline.ReadOptions{S3: s3store.New(c)}
	putObject(t, c, "bkt", "bad/x.csv.gz", []byte("\x1f\x8bnot gzip at all"))
	tests := []struct {
		name, input, want string
	}{
		{"missing bucket", "s3://nobucket/x.csv", "s3://nobucket/x.csv"},
		{"empty prefix", "s3://bkt/nothing/", "no object or .csv/.csv.gz objects"},
		{"corrupt gzip", "s3://bkt/bad/x.csv.gz", "s3://bkt/bad/x.csv.gz"},
		{"no bucket", "s3:///x.csv", "expected s3://bucket/key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := pipeline.ReadTables(ctx, []string{tc.input}, opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans several lines: %q", err)
			}
		})
	}
	if _, _, err := pipeline.ReadPrepared(ctx, "s3://bkt/none", opt); err == nil || !strings.Contains(err.Error(), "s3://bkt/none/manifest.json") {
		t.Fatalf("pipeline.ReadPrepared of a missing prefix: %v", err)
	}
}

// TestS3DefaultChainHonoursEndpointEnv builds the store the way production does
// (FromEnv) and reaches the in-process server through AWS_ENDPOINT_URL_S3.
func TestS3DefaultChainHonoursEndpointEnv(t *testing.T) {
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o644)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3": srv.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_PROFILE": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
	}
	if err := backend.CreateBucket("envbkt"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("../testdata/final_small.csv")
	if _, err := backend.PutObject("envbkt", "in/final.csv", map[string]string{}, bytes.NewReader(b), int64(len(b)), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := s3store.FromEnv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opt := pipeline.ReadOptions{S3: store}
	ds, _, err := pipeline.ReadTables(ctx, []string{"s3://envbkt/in/"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Samples) != 3 {
		t.Fatalf("%d samples, want 3", len(ds.Samples))
	}
	if err := pipeline.WritePrepared(ctx, "s3://envbkt/out", ds, nil, opt); err != nil {
		t.Fatal(err)
	}
	if ok, err := pipeline.IsPreparedWith(ctx, "s3://envbkt/out", opt); !ok || err != nil {
		t.Fatalf("IsPrepared = %v, %v", ok, err)
	}
}

// TestStoreListPagesAndDelete checks the adapter itself: listing follows continuation
// tokens, Put stores exactly the bytes given and Delete removes the object.
func TestStoreListPagesAndDelete(t *testing.T) {
	ctx := context.Background()
	c := fakeS3(t, "bkt")
	st := s3store.New(pagedClient{c})
	for _, k := range []string{"p/a", "p/b", "p/c", "q/d"} {
		if err := st.Put(ctx, "bkt", k, strings.NewReader("v:"+k), int64(len("v:"+k))); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := st.List(ctx, "bkt", "p/")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"p/a", "p/b", "p/c"}) {
		t.Fatalf("keys %q", keys)
	}
	r, err := st.Get(ctx, "bkt", "p/b")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(b) != "v:p/b" {
		t.Fatalf("get = %q, %v", b, err)
	}
	if err := st.Delete(ctx, "bkt", "p/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "bkt", "p/b"); err == nil {
		t.Fatal("deleted object is still readable")
	}
}

// pagedClient lists one key per page so that continuation tokens are exercised.
type pagedClient struct{ *s3.Client }

func (p pagedClient) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	in.MaxKeys = aws.Int32(1)
	return p.Client.ListObjectsV2(ctx, in, optFns...)
}

func assertSamplesEqual(t *testing.T, want, got []pipeline.Sample) {
	t.Helper()
	if err := pipeline.DiffSamples(want, got); err != nil {
		t.Fatal(err)
	}
}
