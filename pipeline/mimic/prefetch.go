package mimic

import "io"

// prefetch reads r ahead in a goroutine (decompression on one core, parsing on
// another); the returned reader must be drained or closed.
type prefetcher struct {
	ch   chan chunk
	free chan []byte
	cur  chunk
	off  int
	done chan struct{}
}

type chunk struct {
	b   []byte
	err error
}

const prefetchBlock = 1 << 20

func prefetch(r io.Reader) *prefetcher {
	p := &prefetcher{ch: make(chan chunk, 4), free: make(chan []byte, 6), done: make(chan struct{})}
	for i := 0; i < 6; i++ {
		p.free <- make([]byte, prefetchBlock)
	}
	go func() {
		defer close(p.ch)
		for {
			var b []byte
			select {
			case b = <-p.free:
			case <-p.done:
				return
			}
			n, err := io.ReadFull(r, b)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			select {
			case p.ch <- chunk{b: b[:n], err: err}:
			case <-p.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *prefetcher) Read(b []byte) (int, error) {
	for p.off >= len(p.cur.b) {
		if p.cur.err != nil {
			return 0, p.cur.err
		}
		if p.cur.b != nil {
			p.free <- p.cur.b[:cap(p.cur.b)]
		}
		c, ok := <-p.ch
		if !ok {
			return 0, io.EOF
		}
		p.cur, p.off = c, 0
	}
	n := copy(b, p.cur.b[p.off:])
	p.off += n
	return n, nil
}

// Close stops the goroutine.
func (p *prefetcher) Close() {
	close(p.done)
	for range p.ch {
	}
}
