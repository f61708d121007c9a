package proxy

import (
	"errors"
	"math"
	"strconv"
	"sync"
	"time"
)

// limit_req: nginx's ngx_http_limit_req_module, a leaky bucket per key.
//
// The arithmetic is nginx's, in its units: a zone's rate is in requests
// per 1000 seconds (rate=1r/s is 1000, rate=1r/m is 16), a key's excess in
// thousandths of a request, times in milliseconds. Each request adds 1000
// to its key's excess, which leaks at the rate since the key's last
// request; above burst the request is rejected, above delay it waits until
// the excess over delay has leaked.

// reqZone is a limit_req_zone.
type reqZone struct {
	name string
	key  *complexValue
	size int64
	// rate is nginx's ctx->rate: requests per 1000 s.
	rate  int64
	state *reqState
}

// limitReq is one limit_req directive.
type limitReq struct {
	zone *reqZone
	// burst and delay are in thousandths of a request; nodelay makes
	// delay math.MaxInt64.
	burst, delay int64
}

// $limit_req_status values (0: the module did not decide).
const (
	limitReqPassed = iota + 1
	limitReqDelayed
	limitReqRejected
	limitReqDelayedDryRun
	limitReqRejectedDryRun
)

var limitReqStatusNames = [...]string{"", "PASSED", "DELAYED", "REJECTED", "DELAYED_DRY_RUN", "REJECTED_DRY_RUN"}

// reqState is a limit_req zone's states: a map by key and a list from the
// most to the least recently used (nginx's rbtree and queue).
type reqState struct {
	mu     sync.Mutex
	nodes  map[string]*reqNode
	lru    reqNode // sentinel: lru.next is the newest, lru.prev the oldest
	budget zoneBudget
}

// reqNode is one key's bucket.
type reqNode struct {
	key string
	// last is when the excess was last leaked, in ms (0: never).
	last   int64
	excess int64
	// count is the requests between their lookup and their accounting
	// (several limit_req in one level): such a node is not evicted.
	count      int
	cost       int64
	prev, next *reqNode
}

func newReqState(size int64) *reqState {
	st := &reqState{nodes: map[string]*reqNode{}, budget: newZoneBudget(size)}
	st.lru.next, st.lru.prev = &st.lru, &st.lru
	return st
}

func (st *reqState) unlink(n *reqNode) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (st *reqState) pushFront(n *reqNode) {
	n.prev, n.next = &st.lru, st.lru.next
	st.lru.next.prev = n
	st.lru.next = n
}

// Results of a lookup, nginx's return codes.
const (
	lrDeclined = iota // no limit had a key
	lrOK              // accounted
	lrAgain           // looked up, to be accounted with the others
	lrBusy            // over the burst
	lrError           // no room for a new key
)

// leaked is a key's excess after ms milliseconds at rate, plus add,
// floored at 0 (nginx's "excess - rate * ms / 1000 + add").
func leaked(excess, rate, ms, add int64) int64 {
	e := excess - mulDiv(rate, ms, 1000) + add
	return max(e, 0)
}

// elapsed is now - last as nginx takes it: a clock gone back a little
// counts as no time, one gone back more than a minute as 1 ms.
func elapsed(now, last int64) int64 {
	ms := now - last
	if ms < -60000 {
		return 1
	}
	return max(ms, 0)
}

// lookup is ngx_http_limit_req_lookup: it finds or creates key's node and
// computes its new excess. With account, the node takes the request
// (lrOK); without, the node is held (lrAgain) until account or unlock.
// The excess is returned for lrBusy and lrOK.
func (st *reqState) lookup(z *reqZone, lim *limitReq, key string, now int64, account bool) (rc int, excess int64, node *reqNode) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := st.nodes[key]; n != nil {
		st.unlink(n)
		st.pushFront(n)
		ms := elapsed(now, n.last)
		excess = leaked(n.excess, z.rate, ms, 1000)
		if excess > lim.burst {
			return lrBusy, excess, nil
		}
		if account {
			n.excess = excess
			if ms != 0 {
				n.last = now
			}
			return lrOK, excess, nil
		}
		n.count++
		return lrAgain, excess, n
	}
	cost := slabChunk(reqNodeOverhead + int64(len(key)))
	st.expire(z, now, 1)
	if !st.budget.take(cost) {
		st.expire(z, now, 0)
		if !st.budget.take(cost) {
			return lrError, 0, nil
		}
	}
	n := &reqNode{key: cloneString(key), cost: cost}
	st.nodes[n.key] = n
	st.pushFront(n)
	if account {
		n.last = now
		return lrOK, 0, nil
	}
	n.count = 1
	return lrAgain, 0, n
}

// expire is ngx_http_limit_req_expire: from the least recently used end,
// it removes the node by force when force is 0 (if no request holds it),
// then up to two nodes idle for a minute whose excess has leaked away.
func (st *reqState) expire(z *reqZone, now int64, force int) {
	for n := force; n < 3; {
		old := st.lru.prev
		if old == &st.lru || old.count > 0 {
			return
		}
		if n != 0 {
			ms := now - old.last
			if ms < 0 {
				ms = -ms
			}
			if ms < 60000 || leaked(old.excess, z.rate, ms, 0) > 0 {
				return
			}
		}
		n++
		st.unlink(old)
		delete(st.nodes, old.key)
		st.budget.give(old.cost)
	}
}

// account is ngx_http_limit_req_account for a node lookup held: it
// takes the request and returns the excess over lim's delay, 0 if none.
func (st *reqState) account(z *reqZone, lim *limitReq, n *reqNode, now int64) (excess int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ms := elapsed(now, n.last)
	excess = leaked(n.excess, z.rate, ms, 1000)
	if ms != 0 {
		n.last = now
	}
	n.excess = excess
	n.count--
	return excess
}

// release drops the hold of a node a lookup returned with lrAgain.
func (st *reqState) release(n *reqNode) {
	st.mu.Lock()
	n.count--
	st.mu.Unlock()
}

// delayFor is how long excess waits under lim: the time its part over
// the delay threshold takes to leak.
func (lim *limitReq) delayFor(excess int64) int64 {
	if excess <= lim.delay {
		return 0
	}
	return mulDiv(excess-lim.delay, 1000, lim.zone.rate)
}

// limitReqs is the limit_req handler of the preaccess phase
// (ngx_http_limit_req_handler). It runs once per request: an internal
// redirect after it decided is not limited again. stop is set when the
// request must end with rc (the rejection status, or 499 when the client
// went away during a delay).
func (r *request) limitReqs() (rc int, stop bool) {
	lc := &r.conf.limits
	limits := lc.reqs
	now := r.c.srv.clock.now().UnixMilli()
	var held [8]*reqNode
	nodes := held[:0]
	if len(limits) > len(held) {
		nodes = make([]*reqNode, 0, len(limits))
	}
	nodes = nodes[:len(limits)]
	res := lrDeclined
	var excess int64
	var lim *limitReq
	n := 0
	for ; n < len(limits); n++ {
		lim = limits[n]
		key := lim.zone.key.eval(r)
		if key == "" {
			continue
		}
		if len(key) > 65535 {
			r.errorf(levelError, "the value of the \"%s\" key is more than 65535 bytes: \"%s\"", lim.zone.key.raw, key)
			continue
		}
		res, excess, nodes[n] = lim.zone.state.lookup(lim.zone, lim, key, now, n == len(limits)-1)
		if res != lrAgain {
			break
		}
	}
	dry := ""
	if lc.reqDryRun {
		dry = ", dry run"
	}
	switch res {
	case lrDeclined:
		return 0, false
	case lrBusy, lrError:
		if res == lrBusy {
			r.errorf(lc.reqLogLevel, "limiting requests%s, excess: %s by zone \"%s\"", dry, thousandths(excess), lim.zone.name)
		} else {
			r.c.srv.errorf(levelAlert, "could not allocate node in limit_req zone \"%s\"", lim.zone.name)
		}
		for i := 0; i < n; i++ {
			if nodes[i] != nil {
				limits[i].zone.state.release(nodes[i])
			}
		}
		if lc.reqDryRun {
			r.limitReqStatus = limitReqRejectedDryRun
			return 0, false
		}
		r.limitReqStatus = limitReqRejected
		return lc.reqStatus, true
	case lrAgain:
		excess = 0
	}
	// every limit held is accounted; the longest delay wins
	delay := lim.delayFor(excess)
	for i := n - 1; i >= 0; i-- {
		if nodes[i] == nil {
			continue
		}
		e := limits[i].zone.state.account(limits[i].zone, limits[i], nodes[i], now)
		if d := limits[i].delayFor(e); d > delay {
			delay, excess, lim = d, e, limits[i]
		}
	}
	if delay == 0 {
		r.limitReqStatus = limitReqPassed
		return 0, false
	}
	delayLevel := lc.reqLogLevel + 1
	if lc.reqLogLevel == levelInfo {
		delayLevel = levelInfo
	}
	r.errorf(delayLevel, "delaying request%s, excess: %s, by zone \"%s\"", dry, thousandths(excess), lim.zone.name)
	if lc.reqDryRun {
		r.limitReqStatus = limitReqDelayedDryRun
		return 0, false
	}
	r.limitReqStatus = limitReqDelayed
	switch end, err := r.c.pause(delayDuration(delay)); end {
	case pauseClientGone:
		if err != nil {
			r.errorf(levelInfo, "client prematurely closed connection (%s)", syscallText(err))
		} else {
			r.errorf(levelInfo, "client prematurely closed connection")
		}
		return 499, true
	case pauseServerStop:
		if !r.c.srv.graceEnded.Load() {
			r.c.abandoned = true
		}
		return rcClose, true
	}
	r.now = r.c.srv.clock.now()
	return 0, false
}

// delayDuration is a delay of ms milliseconds as a time.Duration. One
// longer than a Duration holds (rate=1r/m with a burst in the billions)
// becomes the longest one, about 292 years: still a wait.
func delayDuration(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// thousandths writes an excess as nginx does: "1.500".
func thousandths(v int64) string {
	frac := strconv.FormatInt(v%1000, 10)
	for len(frac) < 3 {
		frac = "0" + frac
	}
	return strconv.FormatInt(v/1000, 10) + "." + frac
}

// cloneString copies a key out of the request's buffers, so that a
// zone's state does not keep them alive.
func cloneString(s string) string { return string(append([]byte(nil), s...)) }

// pauseEnd is how a limit_req delay ended.
type pauseEnd int

const (
	pauseElapsed    pauseEnd = iota // the delay is over
	pauseClientGone                 // the client closed or reset the connection
	pauseServerStop                 // the server is stopping at once
)

// pause waits d, as a request limit_req delays does. Like nginx, which
// watches the connection meanwhile (ngx_http_test_reading) and ends the
// request with 499 when the client has gone, it ends early when the
// client closes or resets the connection, even after sending more (a
// body, a pipelined request: nginx sees the hang-up with EPOLLRDHUP
// whatever is still unread). Bytes sent meanwhile are not read: they
// stay for the requests that follow. It also ends at once when the
// server stops (Server.Close, or Shutdown whose ctx ended).
//
// err, for pauseClientGone, is the socket's error (a reset), if any.
func (c *conn) pause(d time.Duration) (end pauseEnd, err error) {
	deadline := time.Now().Add(d)
	c.setReadDeadline(deadline)
	hangup, sockErr, err := waitHangup(c.nc)
	c.setReadDeadline(time.Time{})
	switch {
	case c.srv.stopping():
		return pauseServerStop, nil
	case hangup:
		return pauseClientGone, sockErr
	case err == nil || isTimeout(err):
		return pauseElapsed, nil
	case !errors.Is(err, errors.ErrUnsupported):
		// the socket failed otherwise: the client is as good as gone
		return pauseClientGone, nil
	}
	// no way to watch the socket without reading it: until bytes are
	// buffered, a read that is only peeked at sees a hang-up; once some
	// are, only the delay's end or the server's stop ends the wait
	if c.br.Buffered() == 0 {
		c.setReadDeadline(deadline)
		_, err := c.br.Peek(1)
		c.setReadDeadline(time.Time{})
		switch {
		case c.srv.stopping():
			return pauseServerStop, nil
		case err != nil && !isTimeout(err):
			return pauseClientGone, nil
		}
	}
	if rest := time.Until(deadline); rest > 0 {
		t := time.NewTimer(rest)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.srv.closing:
			return pauseServerStop, nil
		}
	}
	return pauseElapsed, nil
}
