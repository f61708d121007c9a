package proxy

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/transport/uwsgi"
)

// Balancing methods of an upstream block.
const (
	balanceRoundRobin = iota
	balanceLeastConn
	balanceIPHash
	balanceHash
	balanceRandom
)

// upstream is an upstream {} group, or the implicit one-address group of a
// *_pass with a host:port.
type upstream struct {
	name     string
	implicit bool
	peers    []*peer
	backups  []*peer
	method   int

	hashKey        *complexValue
	hashConsistent bool

	keepalive         int
	keepaliveTimeout  time.Duration
	keepaliveRequests int

	mu     sync.Mutex
	points []ringPoint // the consistent-hash ring, built on first use
}

// peer is one server of an upstream, with nginx's round-robin state.
type peer struct {
	name            string // as the log shows it: "127.0.0.1:8000", "unix:/p"
	server          string // the server line's address as written
	network, addr   string
	passAddr        string // as the transports take it: addr, or "unix:" addr
	weight          int
	maxFails        int
	maxConns        int
	failTimeout     time.Duration
	down            bool
	currentWeight   int
	effectiveWeight int
	fails           int
	accessed        time.Time
	checked         time.Time
	conns           int

	// idle keeps upstream keepalive connections (proxy_pass only).
	idle []*upstreamConn
}

func newPeer(name, network, addr string, weight int) *peer {
	passAddr := addr
	if network == "unix" {
		passAddr = "unix:" + addr
	}
	return &peer{name: name, server: name, network: network, addr: addr, passAddr: passAddr, weight: weight, maxFails: 1, failTimeout: 10 * time.Second}
}

func (u *upstream) init() {
	for _, p := range append(append([]*peer(nil), u.peers...), u.backups...) {
		p.effectiveWeight = p.weight
	}
	if u.keepaliveTimeout == 0 {
		u.keepaliveTimeout = 60 * time.Second
	}
	if u.keepaliveRequests == 0 {
		u.keepaliveRequests = 1000
	}
}

// tries is how many peers a request may try: nginx's
// ngx_http_upstream_tries, the number of servers not marked down
// (at least one, so that a group of down servers logs "no live
// upstreams").
func (u *upstream) tries() int {
	n := 0
	for _, list := range [2][]*peer{u.peers, u.backups} {
		for _, p := range list {
			if !p.down {
				n++
			}
		}
	}
	return max(n, 1)
}

// failedBy reports whether an answer with status that
// *_next_upstream retries counts as a failure of the peer: 403 and 404
// never do (nginx's NGX_PEER_NEXT).
func failedBy(status int) bool { return status != 403 && status != 404 }

// pick is one peer choice for one try of a request.
type pick struct {
	p      *peer
	backup bool
}

// selection is a request's walk through an upstream.
type selection struct {
	u *upstream
	// tried are the peers this request tried: a list, as upstreams are
	// small and a map would cost an allocation per request
	tried  []*peer
	ipHash uint32

	// the hash method's state
	hashed      bool
	hashKey     string
	hashValue   uint32
	rehash      int
	hashTries   int
	ringPos     int
	ringStarted bool
}

func (u *upstream) newSelection(r *request) selection {
	return selection{u: u, tried: r.c.triedBuf[:0], ipHash: 89}
}

func (s *selection) wasTried(p *peer) bool {
	for _, q := range s.tried {
		if q == p {
			return true
		}
	}
	return false
}

// next returns the next peer to try, or nil when none is live ("no live
// upstreams"). It follows ngx_http_upstream_get_round_robin_peer and the
// least_conn and ip_hash modules.
func (s *selection) next(r *request, now time.Time) *peer {
	u := s.u
	u.mu.Lock()
	defer u.mu.Unlock()
	var p *peer
	switch u.method {
	case balanceIPHash:
		p = s.ipHashPeer(r, now)
	case balanceHash:
		p = s.hashPeer(r, now)
	case balanceLeastConn:
		p = s.leastConnPeer(u.peers, now)
		if p == nil && len(u.backups) > 0 {
			p = s.leastConnPeer(u.backups, now)
		}
	case balanceRandom:
		p = s.randomPeer(now)
	default:
		p = s.rrPeer(u.peers, now)
		if p == nil && len(u.backups) > 0 {
			p = s.rrPeer(u.backups, now)
		}
	}
	if p == nil {
		// nginx 1.22 no longer marks every peer live again here (the
		// old "quick recovery"): failed peers wait out fail_timeout
		return nil
	}
	s.tried = append(s.tried, p)
	p.conns++
	return p
}

func (s *selection) usable(p *peer, now time.Time) bool {
	if p.down || s.wasTried(p) {
		return false
	}
	if p.maxFails > 0 && p.fails >= p.maxFails && now.Sub(p.checked) <= p.failTimeout {
		return false
	}
	if p.maxConns > 0 && p.conns >= p.maxConns {
		return false
	}
	return true
}

// rrPeer is nginx's smooth weighted round robin.
func (s *selection) rrPeer(peers []*peer, now time.Time) *peer {
	if len(peers) == 1 && len(s.u.peers)+len(s.u.backups) == 1 {
		p := peers[0]
		// a single server (in a group without backup servers: nginx's
		// peers->single) is never marked unavailable by max_fails
		if p.down || s.wasTried(p) || (p.maxConns > 0 && p.conns >= p.maxConns) {
			return nil
		}
		return p
	}
	var best *peer
	total := 0
	for _, p := range peers {
		if !s.usable(p, now) {
			continue
		}
		p.currentWeight += p.effectiveWeight
		total += p.effectiveWeight
		if p.effectiveWeight < p.weight {
			p.effectiveWeight++
		}
		if best == nil || p.currentWeight > best.currentWeight {
			best = p
		}
	}
	if best == nil {
		return nil
	}
	best.currentWeight -= total
	if now.Sub(best.checked) > best.failTimeout {
		best.checked = now
	}
	return best
}

// leastConnPeer picks the peer with the fewest active connections per
// weight, ties going round robin.
func (s *selection) leastConnPeer(peers []*peer, now time.Time) *peer {
	var best *peer
	many := false
	for _, p := range peers {
		if !s.usable(p, now) {
			continue
		}
		if best == nil || p.conns*best.weight < best.conns*p.weight {
			best = p
			many = false
		} else if p.conns*best.weight == best.conns*p.weight {
			many = true
		}
	}
	if best == nil || !many {
		if best != nil && now.Sub(best.checked) > best.failTimeout {
			best.checked = now
		}
		return best
	}
	var tied []*peer
	for _, p := range peers {
		if s.usable(p, now) && p.conns*best.weight == best.conns*p.weight {
			tied = append(tied, p)
		}
	}
	return s.rrPeer(tied, now)
}

// ipHashPeer hashes the first three octets of an IPv4 client address (the
// whole of an IPv6 one), as ngx_http_upstream_ip_hash_module does.
func (s *selection) ipHashPeer(r *request, now time.Time) *peer {
	u := s.u
	addr, err := netip.ParseAddr(r.c.remoteIP)
	if err != nil {
		return s.rrPeer(u.peers, now)
	}
	addr = addr.Unmap()
	var key []byte
	if addr.Is4() {
		b := addr.As4()
		key = b[:3]
	} else {
		b := addr.As16()
		key = b[:]
	}
	total := 0
	for _, p := range u.peers {
		total += p.weight
	}
	hash := s.ipHash
	for tries := 0; ; tries++ {
		for _, c := range key {
			hash = (hash*113 + uint32(c)) % 6271
		}
		w := int(hash) % total
		var p *peer
		for _, q := range u.peers {
			if w < q.weight {
				p = q
				break
			}
			w -= q.weight
		}
		s.ipHash = hash
		if p != nil && s.usable(p, now) {
			if now.Sub(p.checked) > p.failTimeout {
				p.checked = now
			}
			return p
		}
		if tries >= 20 {
			return s.rrPeer(u.peers, now)
		}
	}
}

// hashPeer is "hash $key": the Cache::Memcached-compatible hash of
// ngx_http_upstream_hash_module, ((crc32([REHASH] KEY) >> 16) & 0x7fff)
// added to the previous value, over the servers' weights; after 20 misses
// it falls back to round robin.
func (s *selection) hashPeer(r *request, now time.Time) *peer {
	u := s.u
	if len(u.peers) == 1 || s.hashTries > 20 {
		return s.rrPeer(u.peers, now)
	}
	if !s.hashed {
		s.hashKey = u.hashKey.eval(r)
		s.hashed = true
	}
	if u.hashConsistent {
		return s.chashPeer(now)
	}
	total := 0
	for _, p := range u.peers {
		total += p.weight
	}
	for {
		crc := crc32.NewIEEE()
		if s.rehash > 0 {
			crc.Write([]byte(strconv.Itoa(s.rehash)))
		}
		crc.Write([]byte(s.hashKey))
		s.hashValue += (crc.Sum32() >> 16) & 0x7fff
		s.rehash++
		w := int(s.hashValue % uint32(total))
		var p *peer
		for _, q := range u.peers {
			if w < q.weight {
				p = q
				break
			}
			w -= q.weight
		}
		if s.usable(p, now) {
			if now.Sub(p.checked) > p.failTimeout {
				p.checked = now
			}
			return p
		}
		s.hashTries++
		if s.hashTries > 20 {
			return s.rrPeer(u.peers, now)
		}
	}
}

// chashPeer is "hash $key consistent" (ketama): the first point of the
// ring at or after crc32(key), then the next ones.
func (s *selection) chashPeer(now time.Time) *peer {
	u := s.u
	ring := u.ring()
	if len(ring) == 0 {
		return nil
	}
	if !s.ringStarted {
		h := crc32.ChecksumIEEE([]byte(s.hashKey))
		s.ringPos = sort.Search(len(ring), func(i int) bool { return ring[i].hash >= h })
		s.ringStarted = true
	}
	for {
		server := ring[s.ringPos%len(ring)].server
		var best *peer
		total := 0
		for _, p := range u.peers {
			if p.server != server || !s.usable(p, now) {
				continue
			}
			p.currentWeight += p.effectiveWeight
			total += p.effectiveWeight
			if p.effectiveWeight < p.weight {
				p.effectiveWeight++
			}
			if best == nil || p.currentWeight > best.currentWeight {
				best = p
			}
		}
		if best != nil {
			best.currentWeight -= total
			if now.Sub(best.checked) > best.failTimeout {
				best.checked = now
			}
			return best
		}
		s.ringPos++
		s.hashTries++
		if s.hashTries >= len(ring) {
			return nil
		}
	}
}

type ringPoint struct {
	hash   uint32
	server string
}

// ring builds the consistent-hash points once: 160 per unit of weight,
// crc32(host "\0" port prev_hash), sorted, duplicates dropped.
func (u *upstream) ring() []ringPoint {
	if u.points != nil {
		return u.points
	}
	var pts []ringPoint
	for _, p := range u.peers {
		host, port := p.server, ""
		if strings.HasPrefix(strings.ToLower(host), "unix:") {
			host = host[5:]
		} else if i := strings.LastIndexByte(host, ':'); i >= 0 && allDigits(host[i+1:]) {
			host, port = host[:i], host[i+1:]
		}
		base := crc32.NewIEEE()
		base.Write([]byte(host))
		base.Write([]byte{0})
		base.Write([]byte(port))
		var prev [4]byte
		for j := 0; j < p.weight*160; j++ {
			h := crc32.Update(base.Sum32(), crc32.IEEETable, prev[:])
			pts = append(pts, ringPoint{hash: h, server: p.server})
			binary.LittleEndian.PutUint32(prev[:], h)
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].hash < pts[j].hash })
	out := pts[:0]
	for i, pt := range pts {
		if i == 0 || pt.hash != out[len(out)-1].hash {
			out = append(out, pt)
		}
	}
	u.points = out
	return out
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (s *selection) randomPeer(now time.Time) *peer {
	var live []*peer
	for _, p := range s.u.peers {
		if s.usable(p, now) {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[rand.IntN(len(live))]
}

// done reports how a try with p went (ngx_http_upstream_free_round_robin_peer).
func (s *selection) done(p *peer, failed bool, now time.Time) {
	u := s.u
	u.mu.Lock()
	defer u.mu.Unlock()
	p.conns--
	if failed {
		p.fails++
		p.accessed = now
		p.checked = now
		if p.maxFails > 0 {
			p.effectiveWeight -= p.weight / p.maxFails
		}
		if p.effectiveWeight < 0 {
			p.effectiveWeight = 0
		}
		return
	}
	if p.accessed.Before(p.checked) {
		p.fails = 0
	}
}

// upstreamState is what the $upstream_* variables report.
type upstreamState struct {
	tries []upstreamTry
	// the peer being tried, for the error log's "upstream:" (built only
	// when a line is logged): scheme, then the peer, then uri
	curScheme string
	curPeer   *peer
	curURI    string
	// respFields are the last answer's headers, for $upstream_http_*
	respFields  []uwsgi.HeaderField
	proxyHost   string
	proxyPort   string
	requestBody string
}

// current is the upstream the error log names: "uwsgi://127.0.0.1:3031",
// "uwsgi://unix:/run/app.sock:", "http://127.0.0.1:8000/uri".
func (s *upstreamState) current() string {
	p := s.curPeer
	if p == nil {
		return ""
	}
	if p.network == "unix" && s.curScheme != "http://" {
		return s.curScheme + "unix:" + p.addr + ":" + s.curURI
	}
	return s.curScheme + p.name + s.curURI
}

type upstreamTry struct {
	addr                      string
	status                    int
	connect, header, response time.Duration
	length                    int64
}

func (s *upstreamState) header(name string) string {
	for _, f := range s.respFields {
		if varNameEqual(strings.ToLower(f.Name), name) {
			return f.Value
		}
	}
	return ""
}

func (s *upstreamState) cookie(name string) string {
	for _, f := range s.respFields {
		if !strings.EqualFold(f.Name, "Set-Cookie") {
			continue
		}
		kv := f.Value
		if i := strings.IndexByte(kv, ';'); i >= 0 {
			kv = kv[:i]
		}
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return v
		}
	}
	return ""
}

func (s *upstreamState) join(f func(t *upstreamTry) string) string {
	if len(s.tries) == 0 {
		return ""
	}
	var b strings.Builder
	for i := range s.tries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f(&s.tries[i]))
	}
	return b.String()
}

func (s *upstreamState) addrs() string {
	return s.join(func(t *upstreamTry) string { return t.addr })
}

func (s *upstreamState) statuses() string {
	return s.join(func(t *upstreamTry) string {
		if t.status == 0 {
			return "502"
		}
		return strconv.Itoa(t.status)
	})
}

func (s *upstreamState) times(f func(t *upstreamTry) time.Duration) string {
	return s.join(func(t *upstreamTry) string {
		d := f(t)
		if d < 0 {
			return "-"
		}
		return msecText(d)
	})
}

func (s *upstreamState) lengths() string {
	return s.join(func(t *upstreamTry) string { return strconv.FormatInt(t.length, 10) })
}

// upstreamConn is a kept-alive connection to a proxy_pass peer.
type upstreamConn struct {
	nc       net.Conn
	br       *bufio.Reader
	idleAt   time.Time
	requests int
}
