package appserver

import (
	"context"
	"errors"
	"sync"
)

// errPoolClosed fails requests that arrive while the server stops.
var errPoolClosed = errors.New("no worker available: the server is stopping")

// pool holds the idle cores of every live worker. Requests take a core with
// get and give it back with put; when every core is busy, get waits in FIFO
// order: that wait is this server's listen queue. Idle cores are reused
// last-in first-out, which keeps a hot worker hot under light load.
type pool struct {
	mu      sync.Mutex
	idle    []*core
	waiters []poolWaiter
	closed  bool
}

// poolWaiter is one request waiting for a core: a goroutine blocked on ch,
// or a request queued in a uwsgi event loop, which gets the core through
// loop.deliver instead (the loop thread never blocks on a channel).
type poolWaiter struct {
	ch   chan *core
	loop *uwsgiLoop
}

// get returns an idle core, waiting for one if need be (waited says it
// did: every core was busy). It fails when ctx ends first or the pool is
// closed.
func (p *pool) get(ctx context.Context) (c *core, waited bool, err error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, false, nil
	}
	if p.closed {
		p.mu.Unlock()
		return nil, false, errPoolClosed
	}
	ch := make(chan *core, 1)
	p.waiters = append(p.waiters, poolWaiter{ch: ch})
	p.mu.Unlock()

	select {
	case c := <-ch:
		if c == nil {
			return nil, true, errPoolClosed
		}
		return c, true, nil
	case <-ctx.Done():
		p.mu.Lock()
		for i, w := range p.waiters {
			if w.ch == ch {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				p.mu.Unlock()
				return nil, true, ctx.Err()
			}
		}
		p.mu.Unlock()
		// A core was handed over while ctx ended: give it back.
		if c := <-ch; c != nil {
			p.put(c)
		}
		return nil, true, ctx.Err()
	}
}

// tryGet returns an idle core at once, or queues lp as a waiter (the core
// comes later through lp.deliver) and returns nil. It fails when the pool
// is closed.
func (p *pool) tryGet(lp *uwsgiLoop) (*core, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		return c, nil
	}
	if p.closed {
		return nil, errPoolClosed
	}
	p.waiters = append(p.waiters, poolWaiter{loop: lp})
	return nil, nil
}

// put makes c available again, or closes it if its worker is retiring or
// the core broke.
func (p *pool) put(c *core) { p.putFrom(c, nil) }

// putFrom is put called by the event loop from (nil for any other caller):
// a core handed to that same loop needs no wakeup.
func (p *pool) putFrom(c *core, from *uwsgiLoop) {
	if c.broken || c.w.retiring.Load() {
		c.close()
		return
	}
	p.mu.Lock()
	if c.w.retiring.Load() {
		p.mu.Unlock()
		c.close()
		return
	}
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		copy(p.waiters, p.waiters[1:])
		p.waiters[len(p.waiters)-1] = poolWaiter{}
		p.waiters = p.waiters[:len(p.waiters)-1]
		p.mu.Unlock()
		if w.loop != nil {
			w.loop.deliver(c, w.loop == from)
			return
		}
		w.ch <- c
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// removeWorker takes w's idle cores out of the pool and returns them. The
// caller has marked w retiring (or dead) first, so busy cores of w are not
// put back later.
func (p *pool) removeWorker(w *worker) []*core {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*core
	kept := p.idle[:0]
	for _, c := range p.idle {
		if c.w == w {
			out = append(out, c)
		} else {
			kept = append(kept, c)
		}
	}
	for i := len(kept); i < len(p.idle); i++ {
		p.idle[i] = nil
	}
	p.idle = kept
	return out
}

// stats returns the number of idle cores and of waiting requests.
func (p *pool) stats() (idle, waiting int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle), len(p.waiters)
}

// close fails every waiting and future get.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	ws := p.waiters
	p.waiters = nil
	p.mu.Unlock()
	for _, w := range ws {
		if w.loop != nil {
			w.loop.deliver(nil, false)
			continue
		}
		w.ch <- nil
	}
}
