package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// resolveChannels turns the channel paths into SageMaker channels, uploading
// local files under the bucket first. Uploads are content-addressed
// (<prefix>/inputs/<channel>/<sha256[:12]>/...), so re-running a sweep or a
// job with the same data uploads nothing new. With dryRun it only computes
// where the data would go.
func (s *jobSpec) resolveChannels(ctx context.Context, e *Env, dryRun bool) error {
	s.channels = nil
	for i, p := range s.channelPaths {
		if p == "" {
			continue
		}
		uri := p
		if !strings.HasPrefix(p, "s3://") {
			var err error
			if uri, err = s.upload(ctx, e, channelNames[i], p, dryRun); err != nil {
				return err
			}
		}
		s.channels = append(s.channels, types.Channel{
			ChannelName: aws.String(channelNames[i]),
			DataSource: &types.DataSource{S3DataSource: &types.S3DataSource{
				S3DataType:             types.S3DataTypeS3Prefix,
				S3Uri:                  aws.String(uri),
				S3DataDistributionType: types.S3DataDistributionFullyReplicated,
			}},
		})
	}
	return nil
}

type localFile struct{ path, rel string }

func listFiles(root string) ([]localFile, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("not a regular file (%s)", info.Mode().Type())
		}
		return []localFile{{root, filepath.Base(root)}}, nil
	}
	var out []localFile
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		// Regular files only (links followed): a device or FIFO never ends.
		if info, err := os.Stat(p); err != nil || !info.Mode().IsRegular() {
			if err != nil {
				return err
			}
			return fmt.Errorf("%s: not a regular file (%s)", p, info.Mode().Type())
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, localFile{p, filepath.ToSlash(rel)})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, err
}

func hashFiles(files []localFile) (string, error) {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00", f.rel)
		r, err := os.Open(f.path)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func (s *jobSpec) upload(ctx context.Context, e *Env, channel, path string, dryRun bool) (string, error) {
	flag := "--" + channel
	files, err := listFiles(path)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", flag, path, err)
	}
	if len(files) == 0 {
		return "", usagef("%s %q: folder has no files", flag, path)
	}
	sum, err := hashFiles(files)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", flag, path, err)
	}
	keyPrefix := joinKey(s.prefix, "inputs", channel, sum) + "/"
	uri := "s3://" + s.bucket + "/" + keyPrefix
	if dryRun {
		fmt.Fprintf(e.Stderr, "dry run: would upload %s (%d files) to %s\n", path, len(files), uri)
		return uri, nil
	}
	c, err := e.aws(ctx)
	if err != nil {
		return "", err
	}
	uploaded := 0
	for _, f := range files {
		key := keyPrefix + f.rel
		if _, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key}); err == nil {
			continue // content-addressed: already there
		}
		r, err := os.Open(f.path)
		if err != nil {
			return "", fmt.Errorf("%s %q: %w", flag, path, err)
		}
		_, err = c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: r})
		r.Close()
		if err != nil {
			return "", fmt.Errorf("upload %s to s3://%s/%s: %w", f.path, s.bucket, key, err)
		}
		uploaded++
	}
	fmt.Fprintf(e.Stderr, "%s: %s → %s (%d of %d files uploaded)\n", channel, path, uri, uploaded, len(files))
	return uri, nil
}

// dataIdentity names each channel's data for a sweep fingerprint: the S3 URI,
// or the content hash of a local path (so changed local data is a new sweep).
func (s *jobSpec) dataIdentity() ([3]string, error) {
	var out [3]string
	for i, p := range s.channelPaths {
		if p == "" || strings.HasPrefix(p, "s3://") {
			out[i] = p
			continue
		}
		files, err := listFiles(p)
		if err != nil {
			return out, fmt.Errorf("--%s %q: %w", channelNames[i], p, err)
		}
		sum, err := hashFiles(files)
		if err != nil {
			return out, fmt.Errorf("--%s %q: %w", channelNames[i], p, err)
		}
		out[i] = "sha256:" + sum
	}
	return out, nil
}
