package serve

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// A body must arrive within bodyGrace plus its size at minBodyRate, per connection:
// a client that trickles its body would otherwise hold its admission (its memory
// charge and an in-flight place) until the request deadline, and a handful of them
// lock every caller out. SageMaker and any client on a working network send a 6 MB
// body in well under the 11 s this allows.
const (
	bodyGrace   = 5 * time.Second
	minBodyRate = 1 << 20 // bytes per second
	// chunkCharge is how much of a chunked body is charged at a time as it arrives.
	chunkCharge = 1 << 20
)

var errBodyBudget = errors.New("memory budget spent while the body was arriving")

// bodyTime is how long a body of n bytes may take to arrive (n < 0: chunked, up to
// max bytes), at most the request deadline.
func bodyTime(n, maxBody int64, deadline time.Duration) time.Duration {
	if n < 0 {
		n = maxBody
	}
	return min(bodyGrace+time.Duration(n)*time.Second/minBodyRate, deadline)
}

// readBodyTimed reads the body under its per-connection time limit.
func (s *Server) readBodyTimed(w http.ResponseWriter, r *http.Request, t *ticket) ([]byte, error) {
	limit := bodyTime(r.ContentLength, s.opts.maxBody, s.opts.requestTimeout)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(limit)) // not every ResponseWriter supports it
	body, err := readBody(w, r, s.opts.maxBody, t)
	_ = rc.SetReadDeadline(time.Time{})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("request body not received within %v; send it at %d kB/s or more: %w", limit, minBodyRate>>10, err)
	}
	return body, err
}
