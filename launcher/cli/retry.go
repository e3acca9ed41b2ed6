package cli

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"
)

// backoff retries AWS calls that the service asks us to slow down for.
type backoff struct {
	e *Env
	// base and limit bound the exponential delay for ThrottlingException.
	base, limit time.Duration
	// patience is how long one call may spend waiting out throttling before it gives
	// up. A time budget, not an attempt count: parallel callers share the service's rate,
	// so one of them may be throttled many times in a row while the sweep still moves.
	patience time.Duration
	// quotaWait, when positive, makes ResourceLimitExceeded (an account quota such
	// as concurrent training jobs) a reason to wait and retry without limit,
	// rather than an error: a sweep then drains as earlier jobs finish.
	quotaWait time.Duration
	// onWait reports each wait (may be nil).
	onWait func(key, code string, attempt int, d time.Duration)
}

func (e *Env) newBackoff() *backoff {
	// A short cap keeps a throttled sweep moving (throttling is a rate limit: the next
	// request usually succeeds).
	return &backoff{e: e, base: 200 * time.Millisecond, limit: 5 * time.Second, patience: 2 * time.Minute}
}

func isThrottle(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return false
}

// do calls fn until it succeeds, fails with an error that is not worth
// retrying, or ctx ends. key decorrelates the jitter of parallel callers.
func (b *backoff) do(ctx context.Context, key string, fn func() error) error {
	throttled, waited := 0, time.Duration(0)
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		code := apiErrorCode(err)
		var d time.Duration
		switch {
		case isThrottle(code):
			throttled++
			d = b.delay(key, throttled)
			if waited+d > b.patience {
				return fmt.Errorf("still throttled after %d attempts over %s: %w", throttled, waited.Round(time.Second), err)
			}
			waited += d
		case code == "ResourceLimitExceeded" && b.quotaWait > 0:
			d = b.quotaWait
		default:
			return err
		}
		if b.onWait != nil {
			b.onWait(key, code, attempt, d)
		}
		if err := b.e.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// delay is exponential with deterministic jitter in [d/2, d).
func (b *backoff) delay(key string, n int) time.Duration {
	d := b.base << min(n-1, 20)
	if d > b.limit || d <= 0 {
		d = b.limit
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", key, n)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(h.Sum64()%uint64(half))
}
