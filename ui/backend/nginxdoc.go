package backend

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// nginxDocument is nginx.conf: confedit's document (with the files it
// includes), as the window's NginxDocument. Form edits splice only the
// bytes of the directive edited.
type nginxDocument struct {
	doc       *confedit.NginxDoc
	path      string
	prefix    string
	listeners diskListeners

	mu sync.Mutex
	// removed remembers where a cleared directive stood in its block, so
	// that clearing a form field and typing a new value puts it back.
	removed map[deck.NginxPath]int
}

var _ deck.NginxDocument = (*nginxDocument)(nil)

func newNginxDocument(doc *confedit.NginxDoc, prefix string) *nginxDocument {
	return &nginxDocument{doc: doc, path: doc.Path(), prefix: prefix, removed: map[deck.NginxPath]int{}}
}

func (d *nginxDocument) Name() string           { return filepath.Base(d.path) }
func (d *nginxDocument) Path() string           { return d.path }
func (d *nginxDocument) Text() string           { return string(d.doc.Bytes("")) }
func (d *nginxDocument) Dirty() bool            { return d.doc.Dirty() }
func (d *nginxDocument) OnDiskChange(fn func()) { d.listeners.add(fn) }

func (d *nginxDocument) SetText(text string) {
	if err := d.doc.SetSource("", []byte(text)); err != nil {
		// Only a file the document does not hold can fail; the main
		// file always is.
		panic(fmt.Sprintf("nginx.conf document lost its main file: %v", err))
	}
}

// Validate checks text as if it were the main file, on a scratch document.
func (d *nginxDocument) Validate(text string) []deck.Problem {
	scratch, err := confedit.OpenNginx(d.path, confedit.NginxOptions{Prefix: d.prefix})
	if err != nil {
		return []deck.Problem{{Severity: deck.SevError, Message: err.Error()}}
	}
	if err := scratch.SetSource("", []byte(text)); err != nil {
		return []deck.Problem{{Severity: deck.SevError, Message: err.Error()}}
	}
	return toProblems(d.path, scratch.Validate())
}

func (d *nginxDocument) Diff() string {
	s, err := d.doc.Diff()
	if err != nil {
		return "cannot compare with the file on disk: " + err.Error()
	}
	return s
}

func (d *nginxDocument) Save() error      { return saveError(d.path, d.doc.Save()) }
func (d *nginxDocument) ForceSave() error { return saveError(d.path, d.doc.ForceSave()) }

func (d *nginxDocument) Revert() error {
	d.mu.Lock()
	d.removed = map[deck.NginxPath]int{}
	d.mu.Unlock()
	return d.doc.Revert()
}

// syntaxError refuses a config whose main file does not parse: a form
// cannot edit what it cannot read.
func syntaxError(c *nginxconf.Config) error {
	if c == nil || c.Main == nil {
		return fmt.Errorf("nginx.conf cannot be read; fix it in the Source view first")
	}
	if e := c.Main.Err; e != nil {
		return fmt.Errorf("line %d: %s; fix it in the Source view first", e.Line, e.Msg)
	}
	return nil
}

func locations(server *nginxconf.Directive) []*nginxconf.Directive {
	var out []*nginxconf.Directive
	for _, d := range server.Block.Directives {
		if d.Name == "location" && d.Block != nil {
			out = append(out, d)
		}
	}
	return out
}

func upstreams(c *nginxconf.Config) []*nginxconf.Directive {
	var out []*nginxconf.Directive
	c.Main.Walk(func(d *nginxconf.Directive) bool {
		if d.Name == "upstream" && d.Block != nil {
			out = append(out, d)
			return false
		}
		return true
	})
	return out
}

func joinValues(d *nginxconf.Directive) string {
	if d == nil {
		return ""
	}
	return strings.Join(d.Values(), " ")
}

// handlers are the directives that answer a location, in the order the form
// looks for them.
var handlers = []string{"uwsgi_pass", "proxy_pass", "fastcgi_pass", "return", "alias", "root", "try_files"}

func (d *nginxDocument) Servers() ([]deck.NginxServer, error) {
	var out []deck.NginxServer
	err := d.doc.Edit(func(c *nginxconf.Config) error {
		if err := syntaxError(c); err != nil {
			return err
		}
		for _, s := range confedit.Servers(c) {
			srv := deck.NginxServer{
				Line:              s.Line,
				ServerName:        joinValues(s.Block.Get("server_name")),
				Root:              joinValues(s.Block.Get("root")),
				ClientMaxBodySize: joinValues(s.Block.Get("client_max_body_size")),
			}
			for _, l := range s.Block.Find("listen") {
				srv.Listen = append(srv.Listen, joinValues(l))
			}
			for _, l := range locations(s) {
				loc := deck.NginxLocation{Line: l.Line, Match: joinValues(l)}
				for _, h := range handlers {
					if hd := l.Block.Get(h); hd != nil {
						loc.Handler, loc.Target = h, joinValues(hd)
						break
					}
				}
				srv.Locations = append(srv.Locations, loc)
			}
			out = append(out, srv)
		}
		return nil
	})
	return out, err
}

func (d *nginxDocument) Upstreams() ([]deck.NginxUpstream, error) {
	var out []deck.NginxUpstream
	err := d.doc.Edit(func(c *nginxconf.Config) error {
		if err := syntaxError(c); err != nil {
			return err
		}
		for _, u := range upstreams(c) {
			up := deck.NginxUpstream{Line: u.Line, Name: joinValues(u)}
			for _, s := range u.Block.Find("server") {
				up.Servers = append(up.Servers, joinValues(s))
			}
			out = append(out, up)
		}
		return nil
	})
	return out, err
}

// SetDirective edits one directive, splicing only its bytes.
func (d *nginxDocument) SetDirective(p deck.NginxPath, args ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.doc.Edit(func(c *nginxconf.Config) error {
		if err := syntaxError(c); err != nil {
			return err
		}
		var block *nginxconf.Block
		switch {
		case p.Upstream >= 0:
			ups := upstreams(c)
			if p.Upstream >= len(ups) {
				return fmt.Errorf("there is no upstream block #%d", p.Upstream+1)
			}
			block = ups[p.Upstream].Block
		default:
			srvs := confedit.Servers(c)
			if p.Server < 0 || p.Server >= len(srvs) {
				return fmt.Errorf("there is no server block #%d", p.Server+1)
			}
			block = srvs[p.Server].Block
			if p.Location >= 0 {
				locs := locations(srvs[p.Server])
				if p.Location >= len(locs) {
					return fmt.Errorf("server #%d has no location #%d", p.Server+1, p.Location+1)
				}
				block = locs[p.Location].Block
			}
		}
		existing := block.Get(p.Name)
		var err error
		switch {
		case existing != nil && len(args) == 0:
			for i, dir := range block.Directives {
				if dir == existing {
					d.removed[p] = i
				}
			}
			err = existing.Remove()
		case existing != nil:
			err = existing.SetArgs(args...)
			delete(d.removed, p)
		case len(args) == 0:
			return nil
		default:
			if i, ok := d.removed[p]; ok && i <= len(block.Directives) {
				_, err = block.Insert(i, nginxconf.NewDirective(p.Name, args...))
			} else {
				_, err = block.Append(nginxconf.NewDirective(p.Name, args...))
			}
			delete(d.removed, p)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		return nil
	})
}
