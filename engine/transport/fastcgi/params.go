package fastcgi

import (
	"context"
	"strconv"
)

// Param is one fastcgi_param after the proxy evaluated its value.
type Param struct {
	Key, Value string
	// Skip marks a param that is configured but not sent. nginx leaves a
	// param out of the request in two cases, and the proxy sets Skip for
	// both: an if_not_empty param whose value came out empty, and an
	// HTTP_* param whose configured value is the empty string (the idiom
	// `fastcgi_param HTTP_PROXY "";` for hiding a client header). A
	// skipped HTTP_* param still hides the client header it names.
	Skip bool
}

// Params is a location's fastcgi_param list, in config order. Duplicate keys
// are sent as duplicate pairs.
type Params []Param

type paramsKey struct{}

// WithParams returns a context carrying the evaluated params for one request;
// the transport reads them from the outgoing request's context (ReverseProxy
// keeps the incoming request's context). Without params the transport sends
// only the client's headers, as nginx does for a location with no
// fastcgi_param at all.
func WithParams(ctx context.Context, p Params) context.Context {
	return context.WithValue(ctx, paramsKey{}, p)
}

// ParamsFromContext returns the params set by WithParams, or nil.
func ParamsFromContext(ctx context.Context) Params {
	p, _ := ctx.Value(paramsKey{}).(Params)
	return p
}

// appendParamPairs appends the params to be sent as name-value pairs.
// bodyLength >= 0 is the length of a body whose size was unknown when the
// proxy evaluated the params (a chunked request): nginx evaluates
// $content_length after reading the whole body, so an empty CONTENT_LENGTH
// is filled in with it.
func appendParamPairs(dst []byte, params Params, bodyLength int64) []byte {
	for _, p := range params {
		if p.Key == "CONTENT_LENGTH" && p.Value == "" && bodyLength >= 0 {
			p.Value, p.Skip = strconv.FormatInt(bodyLength, 10), false
		}
		if p.Skip {
			continue
		}
		dst = appendPair(dst, p.Key, p.Value)
	}
	return dst
}
