package fastcgi

import (
	"context"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// Param is one fastcgi_param after the proxy evaluated its value; Skip
// marks one nginx leaves out (an empty if_not_empty, or HTTP_* set to "").
// It is the same type as uwsgi.Param, so one evaluated list serves both.
type Param = upstream.Param

// Params is a location's fastcgi_param list, in config order. Duplicate keys
// are sent as duplicate pairs.
type Params = upstream.Params

// HeaderField is one client request header line as it arrived.
type HeaderField = upstream.HeaderField

// WithParams returns a context carrying the evaluated params for one
// request. The uwsgi transport reads the same context value.
func WithParams(ctx context.Context, p Params) context.Context {
	return upstream.WithParams(ctx, p)
}

// ParamsFromContext returns the params set by WithParams, or nil.
func ParamsFromContext(ctx context.Context) Params { return upstream.ParamsFromContext(ctx) }

// WithClientHeaders returns a context carrying the client's request headers
// in wire order, hop-by-hop ones and repeats included, so that the PARAMS
// record matches nginx's byte for byte. Without it the transport passes
// r.Host first, then r.Header sorted by name.
func WithClientHeaders(ctx context.Context, h []HeaderField) context.Context {
	return upstream.WithClientHeaders(ctx, h)
}
