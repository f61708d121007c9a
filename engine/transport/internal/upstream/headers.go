package upstream

import (
	"context"
	"net/http"
	"sort"
)

// HeaderField is one client request header line as it arrived.
type HeaderField struct {
	Name, Value string
}

type clientHeadersKey struct{}

// WithClientHeaders returns a context carrying the client's request headers
// in wire order, repeats included. nginx passes headers in the order the
// client sent them, including the hop-by-hop ones (Connection,
// Transfer-Encoding) that ReverseProxy strips from the outgoing request; a
// proxy that kept the raw header lines hands them over here so the request
// matches nginx's byte for byte.
//
// Without it, the transport uses the outgoing request: Host from r.Host
// first (keep the client's Host there: ProxyRequest.SetURL clears it), then
// r.Header by name in sorted order, less the empty User-Agent ReverseProxy
// adds. The application sees the same environ either way, except for the
// hop-by-hop headers; only the order of the variables differs.
func WithClientHeaders(ctx context.Context, h []HeaderField) context.Context {
	return context.WithValue(ctx, clientHeadersKey{}, h)
}

// ClientHeaders returns the headers to pass for r, in order.
func ClientHeaders(r *http.Request) []HeaderField {
	if h, ok := r.Context().Value(clientHeadersKey{}).([]HeaderField); ok {
		return h
	}
	names := make([]string, 0, len(r.Header))
	n := 1
	for name, values := range r.Header {
		if name != "Host" {
			names = append(names, name)
			n += len(values)
		}
	}
	sort.Strings(names)
	fields := make([]HeaderField, 0, n)
	if r.Host != "" {
		fields = append(fields, HeaderField{Name: "Host", Value: r.Host})
	}
	for _, name := range names {
		values := r.Header[name]
		if name == "User-Agent" && len(values) == 1 && values[0] == "" {
			// ReverseProxy's placeholder that keeps net/http from adding
			// its own User-Agent: the client sent none.
			continue
		}
		for _, v := range values {
			fields = append(fields, HeaderField{Name: name, Value: v})
		}
	}
	return fields
}

// isHTTPParam reports a param named HTTP_<NAME>, which hides a client
// header.
func isHTTPParam(key string) bool {
	return len(key) > len("HTTP_") && key[:len("HTTP_")] == "HTTP_"
}

// hides reports whether a param hides the client header name: every param
// named HTTP_<NAME> hides the header whose name, lower-cased with '-' read
// as '_', is <name> lower-cased (ngx_http_uwsgi_init_params and
// ngx_http_fastcgi_init_params build the same hash, skipped params
// included).
func hides(params Params, name string) bool {
	for _, p := range params {
		if !isHTTPParam(p.Key) {
			continue
		}
		key := p.Key[len("HTTP_"):]
		if len(key) != len(name) {
			continue
		}
		same := true
		for i := 0; i < len(key) && same; i++ {
			k, c := key[i], name[i]
			if k >= 'A' && k <= 'Z' {
				k |= 0x20
			}
			switch {
			case c >= 'A' && c <= 'Z':
				c |= 0x20
			case c == '-':
				c = '_'
			}
			same = k == c
		}
		if same {
			return true
		}
	}
	return false
}

// AppendHeaderVarName appends the variable nginx sends for a client
// header: HTTP_ and the name with ASCII letters upper-cased and '-' turned
// into '_'.
func AppendHeaderVarName(dst []byte, name string) []byte {
	dst = append(dst, "HTTP_"...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
			c &^= 0x20
		case c == '-':
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// HeaderVarNameLen is the length of AppendHeaderVarName's name.
func HeaderVarNameLen(name string) int { return len("HTTP_") + len(name) }
