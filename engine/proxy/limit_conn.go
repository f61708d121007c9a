package proxy

import "sync"

// limit_conn: nginx's ngx_http_limit_conn_module. It counts the requests
// being processed per key (a request counts from its preaccess phase,
// after its header was read, until it is freed, after its log phase) and
// rejects one that would go over the limit.

// connZone is a limit_conn_zone.
type connZone struct {
	name  string
	key   *complexValue
	size  int64
	state *connState
}

// limitConn is one limit_conn directive.
type limitConn struct {
	zone *connZone
	conn int
}

// $limit_conn_status values (0: the module did not decide).
const (
	limitConnPassed = iota + 1
	limitConnRejected
	limitConnRejectedDryRun
)

var limitConnStatusNames = [...]string{"", "PASSED", "REJECTED", "REJECTED_DRY_RUN"}

// connState is a limit_conn zone's counters. A key is kept only while
// requests hold it, as nginx frees a node whose count drops to 0.
type connState struct {
	mu     sync.Mutex
	nodes  map[string]*connNode
	budget zoneBudget
}

type connNode struct {
	key   string
	count int
	cost  int64
}

func newConnState(size int64) *connState {
	return &connState{nodes: map[string]*connNode{}, budget: newZoneBudget(size)}
}

// Results of acquire.
const (
	connAcquired = iota
	connOverLimit
	connZoneFull
)

// acquire counts one more request for key unless limit are already
// counted or the zone has no room for a new key.
func (st *connState) acquire(key string, limit int) (*connNode, int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := st.nodes[key]; n != nil {
		if n.count >= limit {
			return nil, connOverLimit
		}
		n.count++
		return n, connAcquired
	}
	cost := slabChunk(connNodeOverhead + int64(len(key)))
	if !st.budget.take(cost) {
		return nil, connZoneFull
	}
	n := &connNode{key: cloneString(key), count: 1, cost: cost}
	st.nodes[n.key] = n
	return n, connAcquired
}

// release uncounts a request acquire counted.
func (st *connState) release(n *connNode) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n.count--
	if n.count == 0 {
		delete(st.nodes, n.key)
		st.budget.give(n.cost)
	}
}

// heldConn is a count a request holds until it is freed.
type heldConn struct {
	state *connState
	node  *connNode
}

// limitConns is the limit_conn handler of the preaccess phase
// (ngx_http_limit_conn_handler); it runs until it has decided once for
// the request. stop is set when the request must end with rc.
func (r *request) limitConns() (rc int, stop bool) {
	lc := &r.conf.limits
	for _, lim := range lc.conns {
		key := lim.zone.key.eval(r)
		if key == "" {
			continue
		}
		if len(key) > 255 {
			r.errorf(levelError, "the value of the \"%s\" key is more than 255 bytes: \"%s\"", lim.zone.key.raw, key)
			continue
		}
		r.limitConnStatus = limitConnPassed
		node, res := lim.zone.state.acquire(key, lim.conn)
		if res == connAcquired {
			r.heldConns = append(r.heldConns, heldConn{state: lim.zone.state, node: node})
			continue
		}
		if res == connOverLimit {
			dry := ""
			if lc.connDryRun {
				dry = ", dry run,"
			}
			r.errorf(lc.connLogLevel, "limiting connections%s by zone \"%s\"", dry, lim.zone.name)
		} else {
			r.c.srv.errorf(levelCrit, "ngx_slab_alloc() failed: no memory in limit_conn_zone \"%s\"", lim.zone.name)
		}
		r.releaseConns()
		if lc.connDryRun {
			r.limitConnStatus = limitConnRejectedDryRun
			return 0, false
		}
		r.limitConnStatus = limitConnRejected
		return lc.connStatus, true
	}
	return 0, false
}

// releaseConns gives back the counts the request holds: when it is freed,
// or when one of its limits rejected it.
func (r *request) releaseConns() {
	for i, h := range r.heldConns {
		h.state.release(h.node)
		r.heldConns[i] = heldConn{}
	}
	r.heldConns = r.heldConns[:0]
}
