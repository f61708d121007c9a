package crosscheck

import (
	"fmt"
	"strconv"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// uwsgiDefaultBuffer is uWSGI's default buffer-size; maxPacket the
// largest request a uwsgi packet (16-bit size) or uWSGI can take.
const (
	uwsgiDefaultBuffer = 4096
	maxPacket          = 65535
)

// headerBuffers returns the large_client_header_buffers in effect for a
// pass: the server's, else the http block's, else nginx's default 4 8k.
func headerBuffers(p *pass) (n, size int64, d *nginxconf.Directive) {
	for a := p.n.ancestor("server"); a != nil; a = a.ancestor("http") {
		if l := a.d.Block.Find("large_client_header_buffers"); len(l) > 0 && len(l[0].Args) == 2 {
			n, err1 := nginxconf.ParseNumber(l[0].Arg(0))
			size, err2 := nginxconf.ParseSize(l[0].Arg(1))
			if err1 == nil && err2 == nil {
				return n, size, l[0]
			}
		}
		if a.d.Name == "http" {
			break
		}
	}
	return 4, 8192, nil
}

// checkBufferSize compares uWSGI's buffer-size with the largest request
// head nginx may forward: large_client_header_buffers lets a request
// carry number x size bytes of headers, and nginx passes them all on (up
// to the 64k a uwsgi packet can hold). uWSGI refuses a bigger head, and
// nginx answers 502.
func (c *checker) checkBufferSize() {
	if len(c.served) == 0 {
		return
	}
	bs, err := c.parsed.Size("buffer-size", uwsgiDefaultBuffer)
	if err != nil {
		return // the ini's own validation names the bad value
	}
	var worst *pass
	var need int64
	var lchb *nginxconf.Directive
	var n, size int64
	for _, p := range c.served {
		pn, ps, d := headerBuffers(p)
		if pn*ps > need {
			worst, need, lchb, n, size = p, pn*ps, d, pn, ps
		}
	}
	need = min(need, maxPacket)
	if bs >= need {
		return
	}
	locs := []Location{dirLoc(worst.n.d)}
	buffers := fmt.Sprintf("large_client_header_buffers %d %s, nginx's default", n, sizeWord(size))
	if lchb != nil {
		buffers = c.dirAt(lchb)
		locs = append(locs, dirLoc(lchb))
	}
	ini := c.names.name(c.ini.Path()) + " buffer-size is 4096 (uWSGI's default)"
	if o, ok := c.parsed.Lookup("buffer-size"); ok {
		ini = fmt.Sprintf("%s %s = %s", c.names.at(o.File, o.Line), o.Raw, o.Value)
		locs = append(locs, Location{File: o.File, Line: o.Line})
	} else {
		locs = append(locs, Location{File: c.ini.Path()})
	}
	value := strconv.FormatInt(need, 10)
	c.add(Finding{Severity: confedit.Warning, Kind: KindBufferSize, Locations: locs,
		Message: fmt.Sprintf("%s forwards request heads of up to %d bytes (%s), but %s refuses more than %d: a request with large cookies or headers gets a 502 (uWSGI logs \"invalid request block size\"). Set buffer-size = %s.",
			c.dirAt(worst.n.d), need, buffers, ini, bs, value),
		Fixes: []Fix{{
			Summary: fmt.Sprintf("set buffer-size = %s in %s", value, c.names.name(c.ini.Path())),
			apply:   func() error { return c.ini.Set("buffer-size", value) },
		}},
	})
}

// sizeWord spells a size as nginx would: 8k, 1m.
func sizeWord(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dm", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dk", n>>10)
	}
	return strconv.FormatInt(n, 10)
}
