package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// A checkpoint file is one header line with the SHA-256 of the gob body, then the body:
//
//	blueblood-checkpoint sha256:<64 hex digits>\n<gob>
//
// gob decodes many corrupted bodies without complaint (a flipped byte in a weight is
// just another weight), so without the checksum a damaged checkpoint would resume into
// a different model.
const checkpointMagic = "blueblood-checkpoint sha256:"

// sealCheckpoint prefixes body with its checksum line.
func sealCheckpoint(body []byte) []byte {
	sum := sha256.Sum256(body)
	out := make([]byte, 0, len(checkpointMagic)+2*len(sum)+1+len(body))
	out = append(out, checkpointMagic...)
	out = hex.AppendEncode(out, sum[:])
	out = append(out, '\n')
	return append(out, body...)
}

// errCorruptCheckpoint says what is wrong and what to do; the caller names the file.
var errCorruptCheckpoint = errors.New("corrupt checkpoint: its SHA-256 does not match its contents (or it has no checksum line, as written by an older trainer); delete it to start over")

// openCheckpoint checks the header line and returns the body.
func openCheckpoint(data []byte) ([]byte, error) {
	head, body, ok := bytes.Cut(data, []byte{'\n'})
	want, okMagic := bytes.CutPrefix(head, []byte(checkpointMagic))
	if !ok || !okMagic || len(want) != 2*sha256.Size {
		return nil, errCorruptCheckpoint
	}
	sum := sha256.Sum256(body)
	if !bytes.Equal(want, hex.AppendEncode(nil, sum[:])) {
		return nil, errCorruptCheckpoint
	}
	return body, nil
}
