// Package memstore is an in-memory object store with pipeline.ObjectStore's methods, for
// tests: objects by "bucket/key", a Put that checks the size it is given, and a Put
// failure on demand. (The SDK adapter is tested against a real S3 protocol server in
// package s3store.) It imports nothing of the pipeline, so the pipeline's own tests use it.
package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Store holds objects in memory; safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	objects map[string][]byte // bucket + "/" + key
	// FailPut is a key whose Put fails.
	FailPut string
}

// New returns a store holding objects, named bucket + "/" + key (nil: none).
func New(objects map[string][]byte) *Store {
	if objects == nil {
		objects = map[string][]byte{}
	}
	return &Store{objects: objects}
}

// Get returns the object's bytes.
func (m *Store) Get(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("no such key %s", key)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// List returns the keys in bucket that start with prefix, in no order.
func (m *Store) List(_ context.Context, bucket, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if b, key, _ := strings.Cut(k, "/"); b == bucket && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// Put stores body, which must be size bytes long.
func (m *Store) Put(_ context.Context, bucket, key string, body io.Reader, size int64) error {
	if key == m.FailPut {
		return errors.New("injected failure")
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return fmt.Errorf("read %d bytes, size says %d", len(b), size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[bucket+"/"+key] = b
	return nil
}

// Delete removes the object, if any.
func (m *Store) Delete(_ context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, bucket+"/"+key)
	return nil
}

// Keys lists every object as bucket + "/" + key, sorted.
func (m *Store) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.objects))
	for k := range m.objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
