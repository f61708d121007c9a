package upstream

import (
	"context"
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

func formatSize(n int64) string { return strconv.FormatInt(n, 10) }
