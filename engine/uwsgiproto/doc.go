// Package uwsgiproto encodes and decodes the uwsgi wire protocol as nginx
// speaks it (ngx_http_uwsgi_module.c) and uWSGI parses it (core/protocol.c).
//
// A request packet is a 4-byte header (modifier1 u8, datasize u16 little
// endian, modifier2 u8), then datasize bytes of vars, each var being
// u16le key length, key, u16le value length, value. The request body follows
// the vars block and is not counted in datasize. The response is raw HTTP
// with no uwsgi framing.
//
// The engine (server side) and the proxy's uwsgi_pass transport (client side)
// both use this one implementation, so the two tiers cannot disagree.
package uwsgiproto
