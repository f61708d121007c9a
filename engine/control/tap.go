package control

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// The tap: how the Runner sees every response of the proxy, which has no
// per-request hook yet. When it compiles nginx.conf for a run, it adds (in
// memory, never to the files):
//
//	log_format wsgideck_control_tap '<combined> $request_time "$upstream_addr"';
//	access_log <pipe> wsgideck_control_tap;
//
// The access_log goes into the http block and into every level that has
// access_log directives of its own, since such a level does not inherit
// the http block's. A level whose access log is "off" gets the tap alone:
// nothing of the user's is written there either way. The http block keeps
// nginx's default (logs/access.log, when the logs folder exists) by
// spelling it out. The pipe is a named pipe the Runner reads (tap_unix.go).
//
// This stands in for a hook in engine/proxy (a callback per finished
// request), which would make it unnecessary.

const tapFormatName = "wsgideck_control_tap"

// tapFormat is nginx's combined format, then the request time and the
// upstream address. Values are escaped by the default escaping, so a '"'
// inside one is written \x22 and the quotes delimit fields reliably.
const tapFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time "$upstream_addr"`

// tapLevels are the blocks that may carry access_log directives.
var tapLevels = map[string]bool{"server": true, "location": true, "if": true, "limit_except": true}

// injectTap adds the tap to a loaded nginx.conf (see above).
func injectTap(c *nginxconf.Config, prefix, pipe string) error {
	if c == nil || c.Main == nil {
		return errors.New("no configuration")
	}
	var http *nginxconf.Directive
	for _, d := range c.Main.Block.Expand() {
		if d.Name == "http" && d.Block != nil {
			http = d
			break
		}
	}
	if http == nil {
		return errors.New("nginx.conf has no http block")
	}
	if _, err := http.Block.Append(nginxconf.NewDirective("log_format", tapFormatName, tapFormat)); err != nil {
		return err
	}
	tap := func() *nginxconf.Directive { return nginxconf.NewDirective("access_log", pipe, tapFormatName) }
	var level func(b *nginxconf.Block, top bool) error
	level = func(b *nginxconf.Block, top bool) error {
		// The nested levels first: appending here does not move them.
		for _, d := range b.Expand() {
			if d.Block != nil && tapLevels[d.Name] {
				if err := level(d.Block, false); err != nil {
					return err
				}
			}
		}
		own := b.Find("access_log")
		if len(own) == 0 && !top {
			return nil // it inherits the level above's, tap included
		}
		off := false
		for _, d := range own {
			off = off || d.Arg(0) == "off"
		}
		if off {
			for _, d := range own {
				if err := d.Remove(); err != nil {
					return err
				}
			}
		}
		if top && len(own) == 0 {
			if st, err := os.Stat(filepath.Join(prefix, "logs")); err == nil && st.IsDir() {
				if _, err := b.Append(nginxconf.NewDirective("access_log", "logs/access.log", "combined")); err != nil {
					return err
				}
			}
		}
		_, err := b.Append(tap())
		return err
	}
	return level(http.Block, true)
}

// tapLine is one parsed line of the tap.
type tapLine struct {
	combined string // the line in nginx's combined format
	method   string
	uri      string
	status   int
	bytes    int64
	duration time.Duration
	upstream string
}

// parseTapLine reads a line written in tapFormat.
func parseTapLine(line string) (tapLine, bool) {
	var a tapLine
	line = strings.TrimRight(line, "\r\n")
	// ... "$upstream_addr" at the end
	if !strings.HasSuffix(line, `"`) {
		return a, false
	}
	q := strings.LastIndex(line[:len(line)-1], ` "`)
	if q < 0 {
		return a, false
	}
	if up := line[q+2 : len(line)-1]; up != "-" {
		a.upstream = up
	}
	rest := line[:q]
	sp := strings.LastIndexByte(rest, ' ')
	if sp < 0 {
		return a, false
	}
	if secs, err := strconv.ParseFloat(rest[sp+1:], 64); err == nil {
		a.duration = time.Duration(secs * float64(time.Second))
	}
	a.combined = rest[:sp]
	// [$time_local] "$request" $status $body_bytes_sent "...
	i := strings.Index(a.combined, `] "`)
	if i < 0 {
		return a, false
	}
	req := a.combined[i+3:]
	j := strings.Index(req, `" `)
	if j < 0 {
		return a, false
	}
	fields := strings.Fields(req[j+2:])
	req = req[:j]
	if len(fields) < 2 {
		return a, false
	}
	var err error
	if a.status, err = strconv.Atoi(fields[0]); err != nil {
		return a, false
	}
	a.bytes, _ = strconv.ParseInt(fields[1], 10, 64)
	if parts := strings.SplitN(req, " ", 3); len(parts) >= 2 {
		a.method, a.uri = parts[0], parts[1]
	}
	return a, true
}
