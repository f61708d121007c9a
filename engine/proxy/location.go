package proxy

import "strings"

// locResult is the outcome of a location search, as
// ngx_http_core_find_location reports it.
type locResult uint8

const (
	locDeclined locResult = iota // nothing matched
	locAgain                     // a prefix matched (nested ones may refine it)
	locOK                        // an exact or regex match: final
	locDone                      // the 301 that adds a slash for *_pass
)

// find searches the tree for uri the way nginx does: an "=" match ends
// the search; otherwise the longest prefix is remembered and its nested
// locations are searched; unless that prefix is "^~", the regexes of this
// level are tried in config order and the first match (refined by its own
// nested locations) wins. A prefix location that ends in "/" and is
// handled by *_pass answers the same URI without the slash with a 301,
// unless a location matches that URI exactly.
func (t *locTree) find(r *request, uri string) (*location, locResult) {
	if t == nil {
		return nil, locDeclined
	}
	loc, rc := t.findStatic(uri)
	noregex := false
	if rc == locAgain {
		noregex = loc.kind == locNoRegex
		if loc.nested != nil {
			if nl, nrc := loc.nested.find(r, uri); nrc != locDeclined {
				loc, rc = nl, nrc
			}
		}
	}
	if rc == locOK || rc == locDone {
		return loc, rc
	}
	if !noregex {
		for _, rl := range t.regexes {
			if !r.matchRegex(rl.re, uri) {
				continue
			}
			if rl.nested != nil {
				// nginx turns any result of the nested search into a
				// final match, the auto-redirect one included
				if nl, nrc := rl.nested.find(r, uri); nrc != locDeclined {
					return nl, locOK
				}
			}
			return rl, locOK
		}
	}
	return loc, rc
}

// findStatic is the search among the exact and prefix locations.
func (t *locTree) findStatic(uri string) (*location, locResult) {
	if l := t.exact[uri]; l != nil {
		return l, locOK
	}
	for _, l := range t.prefixes {
		if len(l.name) > len(uri) {
			// the auto-redirect case: the location is uri plus "/"
			if len(l.name) == len(uri)+1 && l.autoRedirect() && strings.HasPrefix(l.name, uri) && !t.hasName(uri) {
				return l, locDone
			}
			continue
		}
		if strings.HasPrefix(uri, l.name) {
			return l, locAgain
		}
	}
	// exact locations ending in "/" with *_pass redirect too
	if l := t.exact[uri+"/"]; l != nil && l.autoRedirect() {
		return l, locDone
	}
	return nil, locDeclined
}

// hasName reports whether a location of this level is named exactly uri.
func (t *locTree) hasName(uri string) bool {
	if t.exact[uri] != nil {
		return true
	}
	for _, l := range t.prefixes {
		if l.name == uri {
			return true
		}
	}
	return false
}

// autoRedirect is nginx's clcf->auto_redirect: set by proxy_pass,
// uwsgi_pass and fastcgi_pass in a location whose name ends in "/".
func (l *location) autoRedirect() bool {
	return l.conf != nil && l.conf.handler != handlerStatic && strings.HasSuffix(l.name, "/")
}

// add puts a location into the tree. Prefixes are kept longest first, so
// the first that matches is the longest.
func (t *locTree) add(l *location) {
	switch l.kind {
	case locExact:
		if t.exact == nil {
			t.exact = map[string]*location{}
		}
		t.exact[l.name] = l
	case locPrefix, locNoRegex:
		i := 0
		for i < len(t.prefixes) && len(t.prefixes[i].name) >= len(l.name) {
			i++
		}
		t.prefixes = append(t.prefixes, nil)
		copy(t.prefixes[i+1:], t.prefixes[i:])
		t.prefixes[i] = l
	case locRegex:
		t.regexes = append(t.regexes, l)
	}
}
