package proxy

import (
	"regexp"
	"strings"
)

// serverNames is the name lookup of one listen address
// (ngx_http_find_virtual_server): exact names, then the longest "*."
// wildcard, then the longest ".*" wildcard, then regexes in config order.
type serverNames struct {
	exact map[string]*vserver
	head  []wildName // "*.example.com" and ".example.com", longest first
	tail  []wildName // "www.example.*", longest first
	regex []regexName
}

type wildName struct {
	// part is ".example.com" for a head wildcard (also matching the bare
	// name when dot is set) or "www.example." for a tail one.
	part string
	dot  bool
	srv  *vserver
}

type regexName struct {
	re  *regexp.Regexp
	srv *vserver
}

// addName records one server_name entry. It reports false for a name
// another server already took on this address (nginx warns and ignores
// it).
func (sn *serverNames) addName(name string, srv *vserver, re *regexp.Regexp) bool {
	if re != nil {
		sn.regex = append(sn.regex, regexName{re: re, srv: srv})
		return true
	}
	name = strings.ToLower(name)
	switch {
	case strings.HasPrefix(name, "*."):
		return sn.addWild(&sn.head, wildName{part: name[1:], srv: srv}, true)
	case strings.HasPrefix(name, "."):
		return sn.addWild(&sn.head, wildName{part: name, dot: true, srv: srv}, true)
	case strings.HasSuffix(name, ".*"):
		return sn.addWild(&sn.tail, wildName{part: name[:len(name)-1], srv: srv}, false)
	}
	if sn.exact == nil {
		sn.exact = map[string]*vserver{}
	}
	if prev, dup := sn.exact[name]; dup {
		// a name given twice in one server is no conflict (nginx does
		// not warn)
		return prev == srv
	}
	sn.exact[name] = srv
	return true
}

func (sn *serverNames) addWild(list *[]wildName, w wildName, head bool) bool {
	for i, o := range *list {
		if o.part == w.part {
			if w.dot && !o.dot {
				(*list)[i].dot = true
				return true
			}
			return o.srv == w.srv
		}
	}
	i := 0
	for i < len(*list) && len((*list)[i].part) >= len(w.part) {
		i++
	}
	*list = append(*list, wildName{})
	copy((*list)[i+1:], (*list)[i:])
	(*list)[i] = w
	return true
}

// lookup finds the server whose name matches a validated host among the
// exact and wildcard names.
func (l *Listen) lookup(host string) (*vserver, bool) {
	sn := l.names
	if sn == nil {
		return nil, false
	}
	if s, ok := sn.exact[host]; ok {
		return s, true
	}
	if host == "" {
		return nil, false
	}
	for _, w := range sn.head {
		if strings.HasSuffix(host, w.part) && len(host) > len(w.part) {
			return w.srv, true
		}
		if w.dot && host == w.part[1:] {
			return w.srv, true
		}
	}
	for _, w := range sn.tail {
		if strings.HasPrefix(host, w.part) && len(host) > len(w.part) {
			return w.srv, true
		}
	}
	return nil, false
}

// findServer picks the virtual server for the request's host: a name
// match, then the first matching regex (whose captures the request
// keeps), else the address's default server.
func (r *request) findServer(host string) *vserver {
	l := r.lis
	if s, ok := l.lookup(host); ok {
		return s
	}
	if host != "" && l.names != nil {
		for _, rn := range l.names.regex {
			if r.matchRegex(rn.re, host) {
				return rn.srv
			}
		}
	}
	return l.defaultServer
}
