package upstream

import (
	"context"
	"iter"
	"net/http"
	"strconv"
)

// Param is one uwsgi_param or fastcgi_param after the proxy evaluated its
// value.
type Param struct {
	Key, Value string
	// Skip marks a param that is configured but not sent. nginx leaves a
	// param out of the request in two cases, and the proxy sets Skip for
	// both: an if_not_empty param whose value came out empty, and an
	// HTTP_* param whose configured value is the empty string (the idiom
	// `uwsgi_param HTTP_PROXY "";` for hiding a client header). A skipped
	// HTTP_* param still hides the client header it names.
	Skip bool
}

// Params is a location's uwsgi_param or fastcgi_param list, in config
// order. Duplicate keys are sent as duplicate variables.
type Params []Param

type paramsKey struct{}

// WithParams returns a context carrying the evaluated params for one request;
// the transport reads them from the outgoing request's context (ReverseProxy
// keeps the incoming request's context). Without params the transport sends
// only the client's headers, as nginx does for a location with no params at
// all.
func WithParams(ctx context.Context, p Params) context.Context {
	return context.WithValue(ctx, paramsKey{}, p)
}

// ParamsFromContext returns the params set by WithParams, or nil.
func ParamsFromContext(ctx context.Context) Params {
	p, _ := ctx.Value(paramsKey{}).(Params)
	return p
}

// Vars yields the variables nginx sends for r, in the order both
// ngx_http_uwsgi_create_request and ngx_http_fastcgi_create_request use:
// the params from r's context, then, unless omitHeaders, each client header
// as HTTP_<NAME> when no param hides it.
//
// For a body whose length was unknown when the proxy evaluated the params
// (a chunked request), an empty CONTENT_LENGTH is filled in with the
// buffered body's size: nginx evaluates $content_length after reading the
// whole body.
func Vars(r *http.Request, body *Body, omitHeaders bool) iter.Seq2[string, string] {
	return func(yield func(key, value string) bool) {
		params := ParamsFromContext(r.Context())
		bodyLength := int64(-1)
		if r.ContentLength < 0 {
			bodyLength = body.Size()
		}
		for _, p := range params {
			if p.Key == "CONTENT_LENGTH" && p.Value == "" && bodyLength >= 0 {
				p.Value, p.Skip = strconv.FormatInt(bodyLength, 10), false
			}
			if !p.Skip && !yield(p.Key, p.Value) {
				return
			}
		}
		if omitHeaders {
			return
		}
		hidden := hiddenBy(params)
		for _, f := range ClientHeaders(r) {
			if !hidden.hides(f.Name) && !yield(headerVarName(f.Name), f.Value) {
				return
			}
		}
	}
}
