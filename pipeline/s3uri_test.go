package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/blueblood/blueblood/pipeline/memstore"
)

func TestParseS3URI(t *testing.T) {
	tests := []struct {
		uri, bucket, key, err string
	}{
		{"s3://b/data/train.csv", "b", "data/train.csv", ""},
		{"s3://b", "b", "", ""},
		{"s3://b/prefix/", "b", "prefix/", ""},
		{"s3://b/a..b/c", "b", "a..b/c", ""}, // dots inside a segment are a name
		{"s3://b/data/../secret.csv", "", "", `s3://b/data/../secret.csv: ".." segment in the key; S3 keys are not paths, write the key without it`},
		{"s3://b/..", "", "", `".." segment`},
		{"s3://b/./x.csv", "", "", `"." segment`},
		{"s3:///key", "", "", "s3:///key: expected s3://bucket/key"},
		{"s3://../key", "", "", "expected s3://bucket/key"},
		{"/local/path", "", "", "expected s3://bucket/key"},
	}
	for _, tc := range tests {
		b, k, err := ParseS3URI(tc.uri)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseS3URI(%q) = %q, %q, %v; want error %q", tc.uri, b, k, err, tc.err)
			}
			continue
		}
		if err != nil || b != tc.bucket || k != tc.key {
			t.Errorf("ParseS3URI(%q) = %q, %q, %v; want %q, %q", tc.uri, b, k, err, tc.bucket, tc.key)
		}
	}
}

// Every s3:// location the pipeline takes (inputs, prepared datasets, outputs) refuses
// ".." before it reaches the store.
func TestS3DotDotRefusedEverywhere(t *testing.T) {
	st := memstore.New(map[string][]byte{"b/x/../t.csv": []byte(badHeader + goodRow), "b/t.csv": []byte(badHeader + goodRow)})
	ctx := context.Background()
	const uri = "s3://b/x/../t.csv"
	check := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), `".." segment`) {
			t.Errorf("%s: %v, want the \"..\" segment refused", what, err)
		}
	}
	_, _, err := ReadTables(ctx, []string{uri}, ReadOptions{S3: st})
	check("ReadTables", err)
	_, _, err = ReadPrepared(ctx, "s3://b/x/../prep", ReadOptions{S3: st})
	check("ReadPrepared", err)
	_, err = IsPreparedWith(ctx, "s3://b/x/../prep", ReadOptions{S3: st})
	check("IsPreparedWith", err)
	ds, _, err := ReadTables(ctx, []string{"s3://b/t.csv"}, ReadOptions{S3: st})
	if err != nil {
		t.Fatal(err)
	}
	err = WritePrepared(ctx, "s3://b/out/../prep", ds, nil, ReadOptions{S3: st})
	check("WritePrepared", err)
}
