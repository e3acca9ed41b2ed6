package memstore

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestStore: Put checks the size and the injected failure, List keeps to the bucket and
// prefix, Get of a missing key fails, Delete removes.
func TestStore(t *testing.T) {
	ctx := context.Background()
	m := New(map[string][]byte{"b/a/x": []byte("1"), "c/a/y": []byte("2")})
	m.FailPut = "bad"
	if err := m.Put(ctx, "b", "a/z", strings.NewReader("abc"), 2); err == nil {
		t.Error("Put with a wrong size succeeded")
	}
	if err := m.Put(ctx, "b", "bad", strings.NewReader("x"), 1); err == nil {
		t.Error("Put of FailPut succeeded")
	}
	if err := m.Put(ctx, "b", "a/z", strings.NewReader("abc"), 3); err != nil {
		t.Fatal(err)
	}
	keys, _ := m.List(ctx, "b", "a/")
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"a/x", "a/z"}) {
		t.Errorf("List: %v", keys)
	}
	rc, err := m.Get(ctx, "b", "a/z")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(rc); string(b) != "abc" {
		t.Errorf("Get: %q", b)
	}
	if _, err := m.Get(ctx, "b", "nope"); err == nil {
		t.Error("Get of a missing key succeeded")
	}
	m.Delete(ctx, "b", "a/x")
	if got := m.Keys(); !slices.Equal(got, []string{"b/a/z", "c/a/y"}) {
		t.Errorf("Keys: %v", got)
	}
}
