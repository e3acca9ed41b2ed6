// Package s3store adapts the aws-sdk-go-v2 S3 client to pipeline.ObjectStore, so that
// only programs that read or write s3:// locations (the launcher's prepare command) link
// the SDK; the trainer, which reads channels SageMaker copied to local disk, does not.
package s3store

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/blueblood/blueblood/pipeline"
)

// API is the part of the S3 client the store uses; *s3.Client satisfies it.
type API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Store is a pipeline.ObjectStore backed by an S3 client.
type Store struct {
	c API
}

var _ pipeline.ObjectStore = (*Store)(nil)

// New wraps an S3 client (usually *s3.Client) as a pipeline.ObjectStore.
func New(client API) pipeline.ObjectStore {
	return &Store{c: client}
}

// FromEnv builds a store from the default aws config chain: AWS_ENDPOINT_URL_S3 (or
// AWS_ENDPOINT_URL), AWS_REGION, profiles and the usual credentials. An endpoint whose
// host is an IP address or localhost (an S3-compatible server) is addressed path-style.
func FromEnv(ctx context.Context) (pipeline.ObjectStore, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	return New(s3.NewFromConfig(cfg, func(o *s3.Options) {
		if o.BaseEndpoint != nil && wantsPathStyle(*o.BaseEndpoint) {
			o.UsePathStyle = true
		}
	})), nil
}

// wantsPathStyle reports whether endpoint's host cannot carry a bucket as a subdomain.
func wantsPathStyle(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return net.ParseIP(h) != nil || strings.EqualFold(h, "localhost")
}

// Get opens the object's body; the caller closes it.
func (s *Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

// List returns every key under prefix, following continuation tokens.
func (s *Store) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	var keys []string
	var token *string
	for {
		out, err := s.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), ContinuationToken: token})
		if err != nil {
			return nil, err
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return keys, nil
		}
		token = out.NextContinuationToken
	}
}

// Put uploads size bytes from body; a negative size leaves the length to the SDK.
func (s *Store) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body}
	if size >= 0 {
		in.ContentLength = aws.Int64(size)
	}
	_, err := s.c.PutObject(ctx, in)
	return err
}

// Delete removes the object.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	_, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err
}

// Lazy is a store whose client comes into being after the store: client is called on
// each use. (A SageMaker test server needs its store before the S3 client that reaches
// the server's S3 exists.)
func Lazy(client func() API) pipeline.ObjectStore { return lazy(client) }

type lazy func() API

func (l lazy) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	return New(l()).Get(ctx, bucket, key)
}

func (l lazy) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	return New(l()).List(ctx, bucket, prefix)
}

func (l lazy) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	return New(l()).Put(ctx, bucket, key, body, size)
}

func (l lazy) Delete(ctx context.Context, bucket, key string) error {
	return New(l()).Delete(ctx, bucket, key)
}
