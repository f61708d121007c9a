package proxy

import (
	"math"
	"math/bits"
)

// Shared memory zones of limit_req_zone and limit_conn_zone.
//
// nginx keeps a zone's states in a slab allocator of the zone's size and
// refuses (limit_conn) or evicts for (limit_req) a new key when the slab
// has no room. wsgideck keeps the states in Go maps with a byte budget
// that follows the same arithmetic, so that a zone holds about as many
// keys as nginx's and memory never grows past what the config allows:
//
//   - a state costs the slab chunk nginx would allocate for its node on a
//     64-bit system: the node is 80 bytes plus the key for limit_req
//     (ngx_rbtree_node_t up to its color, then ngx_http_limit_req_node_t
//     up to its data) and 36 bytes plus the key for limit_conn, and the
//     chunk is the power of two at least that large (at least 8 bytes), or
//     whole 4 KiB pages above 2 KiB;
//   - the budget is the zone's size less two pages, for the slab pool's
//     header, its page table and the zone's own tree and log context.
//
// With $binary_remote_addr (4 bytes) a limit_req state costs 128 bytes and
// a limit_conn state 64: the least zone, 32k, holds 192 and 384 of them, a
// 10m zone 81856 and 163712.
//
// A zone's states survive a reload when the new config declares a zone of
// the same name, kind, size and key (nginx reuses such a zone's shared
// memory); any other change starts the zone afresh, where nginx refuses a
// reload that changes a zone's key.

const (
	slabPage         = 4096
	reqNodeOverhead  = 80
	connNodeOverhead = 36
	// zoneReserved is what a zone's size pays before its states.
	zoneReserved = 2 * slabPage
)

// zoneBudget counts the bytes a zone's states take.
type zoneBudget struct {
	limit, used int64
}

func newZoneBudget(size int64) zoneBudget {
	return zoneBudget{limit: max(size-zoneReserved, 0)}
}

// take reserves cost bytes, reporting false when they do not fit.
func (b *zoneBudget) take(cost int64) bool {
	if b.used+cost > b.limit {
		return false
	}
	b.used += cost
	return true
}

func (b *zoneBudget) give(cost int64) { b.used -= cost }

// slabChunk is the slab allocation for a node of n bytes.
func slabChunk(n int64) int64 {
	if n > slabPage/2 {
		return (n + slabPage - 1) / slabPage * slabPage
	}
	if n <= 8 {
		return 8
	}
	return int64(1) << bits.Len64(uint64(n-1))
}

// mulDiv is a*b/c for non-negative a, b and positive c, saturating at
// math.MaxInt64 instead of overflowing.
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

// adoptZones gives cfg's zones the states of old's zones where nginx
// would reuse the shared memory (see above).
func (cfg *Config) adoptZones(old *Config) {
	if old == nil || old == cfg {
		return
	}
	for name, z := range cfg.reqZones {
		if o := old.reqZones[name]; o != nil && o.size == z.size && o.key.raw == z.key.raw {
			z.state = o.state
		}
	}
	for name, z := range cfg.connZones {
		if o := old.connZones[name]; o != nil && o.size == z.size && o.key.raw == z.key.raw {
			z.state = o.state
		}
	}
}
