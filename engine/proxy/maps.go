package proxy

import (
	"regexp"
	"strings"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// varMap is a map {} block: a variable computed from another value, on
// first use in a request.
type varMap struct {
	src       *complexValue
	def       *complexValue
	exact     map[string]*complexValue
	head      []mapWild // "*.example.com" and ".example.com", with hostnames
	tail      []mapWild // "www.example.*", with hostnames
	regexes   []mapRegex
	hostnames bool
}

type mapWild struct {
	part string
	dot  bool
	val  *complexValue
}

type mapRegex struct {
	re  *regexp.Regexp
	val *complexValue
}

// eval finds the value for r: an exact (case-insensitive) match, then the
// wildcards with hostnames, then the regexes in order, then the default.
func (m *varMap) eval(r *request) string {
	key := m.src.eval(r)
	lk := strings.ToLower(key)
	if m.hostnames {
		lk = strings.TrimSuffix(lk, ".")
	}
	if v, ok := m.exact[lk]; ok {
		return v.eval(r)
	}
	if m.hostnames {
		for _, w := range m.head {
			if (strings.HasSuffix(lk, w.part) && len(lk) > len(w.part)) || (w.dot && lk == w.part[1:]) {
				return w.val.eval(r)
			}
		}
		for _, w := range m.tail {
			if strings.HasPrefix(lk, w.part) && len(lk) > len(w.part) {
				return w.val.eval(r)
			}
		}
	}
	for _, rx := range m.regexes {
		if r.matchRegex(rx.re, key) {
			return rx.val.eval(r)
		}
	}
	if m.def != nil {
		return m.def.eval(r)
	}
	return ""
}

// compileMap compiles map $source $variable { ... }.
func (cc *compiler) compileMap(d *nginxconf.Directive) error {
	vt := cc.cfg.vars
	if len(d.Args) != 2 {
		return errAt(d, "invalid number of arguments in \"map\" directive")
	}
	src, err := compileValue(d.Arg(0), vt)
	if err != nil {
		return errAt(d, "%v", err)
	}
	name := d.Arg(1)
	if !strings.HasPrefix(name, "$") || len(name) < 2 {
		return errAt(d, "invalid variable name %q", name)
	}
	name = strings.ToLower(name[1:])
	if _, builtin := builtinVars[name]; builtin {
		return errAt(d, "the duplicate %q variable", name)
	}
	m := &varMap{src: src, exact: map[string]*complexValue{}}
	if d.Block == nil {
		return errAt(d, "directive \"map\" has no opening \"{\"")
	}
	for _, e := range d.Block.Expand() {
		key := e.Name
		switch {
		case key == "hostnames" && len(e.Args) == 0:
			m.hostnames = true
			continue
		case key == "volatile" && len(e.Args) == 0:
			continue
		}
		if len(e.Args) != 1 {
			return errAt(e, "invalid number of the map parameters")
		}
		val, err := compileValue(e.Arg(0), vt)
		if err != nil {
			return errAt(e, "%v", err)
		}
		if key == "default" {
			if m.def != nil {
				return errAt(e, "duplicate default map parameter")
			}
			m.def = val
			continue
		}
		if strings.HasPrefix(key, "~") {
			pat, fold := key[1:], false
			if strings.HasPrefix(pat, "*") {
				pat, fold = pat[1:], true
			}
			re, err := compileRegexFold(pat, fold)
			if err != nil {
				return errAt(e, "%v", err)
			}
			vt.defineCaptures(re)
			m.regexes = append(m.regexes, mapRegex{re: re, val: val})
			continue
		}
		if strings.HasPrefix(key, "\\") {
			key = key[1:]
		}
		lk := strings.ToLower(key)
		if m.hostnames {
			switch {
			case strings.HasPrefix(lk, "*."):
				m.head = append(m.head, mapWild{part: lk[1:], val: val})
				continue
			case strings.HasPrefix(lk, "."):
				m.head = append(m.head, mapWild{part: lk, dot: true, val: val})
				continue
			case strings.HasSuffix(lk, ".*"):
				m.tail = append(m.tail, mapWild{part: lk[:len(lk)-1], val: val})
				continue
			}
		}
		if _, dup := m.exact[lk]; dup {
			return errAt(e, "duplicate entry %q", key)
		}
		m.exact[lk] = val
	}
	sortWild(m.head)
	sortWild(m.tail)
	idx := vt.define(name)
	if vt.maps[idx] != nil {
		return errAt(d, "the duplicate %q variable", name)
	}
	vt.maps[idx] = m
	return nil
}

func sortWild(ws []mapWild) {
	for i := 1; i < len(ws); i++ {
		for j := i; j > 0 && len(ws[j].part) > len(ws[j-1].part); j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
}
