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

// hiddenHeaders is the set of client headers a param list replaces or hides:
// every param named HTTP_<NAME> hides the header whose name, lower-cased
// with '-' read as '_', is <name> (ngx_http_uwsgi_init_params and
// ngx_http_fastcgi_init_params build the same hash, skipped params
// included).
type hiddenHeaders map[string]bool

func hiddenBy(params Params) hiddenHeaders {
	var hidden hiddenHeaders
	for _, p := range params {
		if len(p.Key) > len("HTTP_") && p.Key[:len("HTTP_")] == "HTTP_" {
			if hidden == nil {
				hidden = make(hiddenHeaders)
			}
			hidden[lowerASCII(p.Key[len("HTTP_"):])] = true
		}
	}
	return hidden
}

// hides reports whether the client header name is hidden.
func (h hiddenHeaders) hides(name string) bool {
	if len(h) == 0 {
		return false
	}
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c | 0x20
		case c == '-':
			b[i] = '_'
		}
	}
	return h[string(b)]
}

// headerVarName is the variable nginx sends for a client header: HTTP_ and
// the name with ASCII letters upper-cased and '-' turned into '_'.
func headerVarName(name string) string {
	b := make([]byte, 0, len("HTTP_")+len(name))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
			c &^= 0x20
		case c == '-':
			c = '_'
		}
		b = append(b, c)
	}
	return string(b)
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c | 0x20
		}
	}
	return string(b)
}
