package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// sameContent identifies the tables of one read by the SHA-256 of their
// decompressed bytes, so one table given twice (the same path twice, or
// table.csv beside table.csv.gz) is refused instead of doubling every row.
type sameContent struct {
	seen map[string]string // content hash -> the table that had it
}

// hashing returns r teed into a new hash, to be passed to check once r is read.
func (sc *sameContent) hashing(r io.Reader) (io.Reader, hash.Hash) {
	h := sha256.New()
	return io.TeeReader(r, h), h
}

// check records name's content hash, or refuses it when an earlier table had it.
func (sc *sameContent) check(name string, h hash.Hash) error {
	sum := hex.EncodeToString(h.Sum(nil))
	if first, ok := sc.seen[sum]; ok {
		return fmt.Errorf("%s: same content as %s (SHA-256 %s of the uncompressed table); give each table once", name, first, sum[:12])
	}
	if sc.seen == nil {
		sc.seen = map[string]string{}
	}
	sc.seen[sum] = name
	return nil
}
