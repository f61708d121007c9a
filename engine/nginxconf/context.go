package nginxconf

import "strings"

// Context is where a directive stands, as a bit set so that a directive's
// allowed contexts are one value. The names follow nginx's documentation;
// the bits follow nginx's NGX_*_CONF flags, one per kind of block.
type Context uint32

const (
	// CtxMain is the top level of nginx.conf.
	CtxMain Context = 1 << iota
	// CtxEvents is inside events {}.
	CtxEvents
	// CtxHTTP is inside http {}.
	CtxHTTP
	// CtxServer is inside server {} in http.
	CtxServer
	// CtxLocation is inside location {} (nested or not).
	CtxLocation
	// CtxIfInServer is inside if {} at server level.
	CtxIfInServer
	// CtxIfInLocation is inside if {} in a location.
	CtxIfInLocation
	// CtxUpstream is inside upstream {}.
	CtxUpstream
	// CtxLimitExcept is inside limit_except {}.
	CtxLimitExcept
	// CtxMap is inside map {}; entries are "source value" pairs.
	CtxMap
	// CtxTypes is inside types {}; entries are "type ext...".
	CtxTypes
	// CtxGeo is inside geo {}.
	CtxGeo
	// CtxSplitClients is inside split_clients {}.
	CtxSplitClients
	// CtxCharsetMap is inside charset_map {}.
	CtxCharsetMap

	// CtxAny is every context a directive can be looked up in (include is
	// allowed everywhere).
	CtxAny = CtxMain | CtxEvents | CtxHTTP | CtxServer | CtxLocation |
		CtxIfInServer | CtxIfInLocation | CtxUpstream | CtxLimitExcept
	// ctxEntries are the blocks whose bodies nginx hands to a custom
	// handler: their entries are not directives and are not looked up.
	ctxEntries = CtxMap | CtxTypes | CtxGeo | CtxSplitClients | CtxCharsetMap
)

var contextNames = []struct {
	c    Context
	name string
}{
	{CtxMain, "main"}, {CtxEvents, "events"}, {CtxHTTP, "http"},
	{CtxServer, "server"}, {CtxLocation, "location"},
	{CtxIfInServer, "if in server"}, {CtxIfInLocation, "if in location"},
	{CtxUpstream, "upstream"}, {CtxLimitExcept, "limit_except"},
	{CtxMap, "map"}, {CtxTypes, "types"}, {CtxGeo, "geo"},
	{CtxSplitClients, "split_clients"}, {CtxCharsetMap, "charset_map"},
}

// Has reports whether c includes every context in o.
func (c Context) Has(o Context) bool { return c&o == o && o != 0 }

// String lists the contexts in nginx's documentation style: "http, server,
// location".
func (c Context) String() string {
	if c == 0 {
		return "none"
	}
	var parts []string
	for _, n := range contextNames {
		if c&n.c != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ", ")
}
