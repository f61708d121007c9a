package nginxconf

import (
	"slices"
	"strings"
)

// Arity is how many arguments a directive takes, as nginx's NGX_CONF_TAKE*,
// FLAG, ANY, 1MORE and 2MORE flags say. The ArgsN bits may be combined
// (Args1|Args2 is nginx's TAKE12).
type Arity uint16

const (
	Args0 Arity = 1 << iota // NGX_CONF_NOARGS
	Args1                   // NGX_CONF_TAKE1
	Args2
	Args3
	Args4
	Args5
	Args6
	Args7
	ArgsFlag  // exactly one, "on" or "off"
	ArgsAny   // any number, none included
	Args1More // one or more
	Args2More // two or more

	Args12   = Args1 | Args2
	Args13   = Args1 | Args3
	Args23   = Args2 | Args3
	Args123  = Args1 | Args2 | Args3
	Args1234 = Args1 | Args2 | Args3 | Args4
)

// maxArgs is NGX_CONF_MAX_ARGS minus the name: fixed arities stop at seven.
const maxArgs = 7

// Allows reports whether n arguments (the name not counted) are valid, with
// the precedence ngx_conf_handler gives the flags.
func (a Arity) Allows(n int) bool {
	switch {
	case a&ArgsAny != 0:
		return true
	case a&ArgsFlag != 0:
		return n == 1
	case a&Args1More != 0:
		return n >= 1
	case a&Args2More != 0:
		return n >= 2
	case n < 0 || n > maxArgs:
		return false
	}
	return a&(1<<n) != 0
}

// String names the arity the way nginx's source does: "TAKE12", "FLAG",
// "1MORE", "NOARGS".
func (a Arity) String() string {
	switch {
	case a&ArgsAny != 0:
		return "ANY"
	case a&ArgsFlag != 0:
		return "FLAG"
	case a&Args1More != 0:
		return "1MORE"
	case a&Args2More != 0:
		return "2MORE"
	}
	var sb strings.Builder
	if a&Args0 != 0 {
		sb.WriteString("NOARGS")
	}
	if a&^Args0 != 0 {
		if sb.Len() > 0 {
			sb.WriteByte('|')
		}
		sb.WriteString("TAKE")
		for n := 1; n <= maxArgs; n++ {
			if a&(1<<n) != 0 {
				sb.WriteByte(byte('0' + n))
			}
		}
	}
	return sb.String()
}

// ValueKind is how nginx checks a directive's value: the generic
// ngx_conf_set_*_slot handler it uses, if any. The checker reproduces those
// handlers' errors ("is duplicate", "invalid value").
type ValueKind uint8

const (
	ValueCustom      ValueKind = iota // the directive has its own handler
	ValueFlag                         // on | off
	ValueString                       // one string
	ValueNumber                       // a non-negative integer
	ValueSize                         // a size: 10, 10k, 10m
	ValueOffset                       // an offset: 10, 10k, 10m, 10g
	ValueMsec                         // a time, in milliseconds: 500ms, 10s, 1h 30m
	ValueSec                          // a time, in seconds
	ValueEnum                         // one of Spec.Values
	ValueBitmask                      // one or more of Spec.Values
	ValueBufs                         // "number size"
	ValueStringArray                  // a string, repeatable
	ValueKeyValue                     // "key value", repeatable
)

// Spec describes one directive definition. nginx may define a name more than
// once for different contexts (server in http and in upstream; keepalive_timeout
// in http and upstream's keepalive_timeout), so Lookup returns a list.
type Spec struct {
	Name string
	// Contexts is where the directive is allowed.
	Contexts Context
	// Args is how many arguments it takes.
	Args Arity
	// Block is set for directives written with a body: http { ... }.
	Block bool
	// Value is how nginx checks the value; Values are the allowed words of
	// an enum or bitmask directive.
	Value  ValueKind
	Values []string
	// Implemented is set when wsgideck's proxy acts on the directive. Any
	// other directive nginx knows is accepted with a warning that it has no
	// effect.
	Implemented bool
}

// implemented is every directive wsgideck's proxy acts on. The proxy and
// this list must change together.
var implemented = map[string]bool{
	// main and events
	"worker_processes": true, "error_log": true, "pid": true,
	"events": true, "worker_connections": true, "include": true,
	// http core
	"http": true, "default_type": true, "types": true,
	"log_format": true, "access_log": true,
	"keepalive_timeout": true, "keepalive_requests": true,
	"client_max_body_size": true, "client_header_timeout": true,
	"client_body_timeout": true,
	"server":              true, "listen": true, "server_name": true,
	"root": true, "alias": true, "index": true, "autoindex": true,
	"try_files": true, "error_page": true, "recursive_error_pages": true,
	"location": true, "internal": true, "limit_except": true, "resolver": true,
	"allow": true, "deny": true,
	// limit_req and limit_conn
	"limit_req_zone": true, "limit_req": true, "limit_req_status": true,
	"limit_req_log_level": true, "limit_req_dry_run": true,
	"limit_conn_zone": true, "limit_conn": true, "limit_conn_status": true,
	"limit_conn_log_level": true, "limit_conn_dry_run": true,
	"charset": true, "charset_types": true, "server_tokens": true, "absolute_redirect": true,
	"port_in_redirect": true, "server_name_in_redirect": true,
	"merge_slashes": true, "log_not_found": true,
	"send_timeout": true, "chunked_transfer_encoding": true,
	"underscores_in_headers": true, "ignore_invalid_headers": true,
	"if_modified_since": true, "etag": true, "max_ranges": true, "msie_padding": true,
	"autoindex_exact_size": true, "autoindex_localtime": true,
	"autoindex_format": true,
	// rewrite
	"return": true, "rewrite": true, "set": true, "if": true, "break": true,
	// headers, gzip, map
	"add_header": true, "expires": true,
	"gzip": true, "gzip_types": true, "gzip_min_length": true,
	"gzip_comp_level": true, "gzip_vary": true, "gzip_http_version": true,
	"gzip_proxied": true, "gzip_disable": true,
	"map": true,
	// upstream
	"upstream": true, "least_conn": true, "ip_hash": true, "keepalive": true,
	"hash": true, "random": true,
	// uwsgi
	"uwsgi_pass": true, "uwsgi_param": true, "uwsgi_read_timeout": true,
	"uwsgi_connect_timeout": true, "uwsgi_send_timeout": true,
	"uwsgi_intercept_errors": true, "uwsgi_buffer_size": true,
	"uwsgi_buffering": true, "uwsgi_pass_request_headers": true,
	"uwsgi_pass_request_body": true, "uwsgi_modifier1": true,
	"uwsgi_modifier2": true, "uwsgi_hide_header": true, "uwsgi_pass_header": true,
	"uwsgi_next_upstream": true, "uwsgi_next_upstream_tries": true,
	"uwsgi_next_upstream_timeout": true,
	// proxy
	"proxy_pass": true, "proxy_set_header": true, "proxy_http_version": true,
	"proxy_read_timeout": true, "proxy_connect_timeout": true,
	"proxy_send_timeout": true, "proxy_intercept_errors": true,
	"proxy_buffering": true, "proxy_redirect": true,
	"proxy_pass_request_headers": true, "proxy_pass_request_body": true,
	"proxy_hide_header": true, "proxy_pass_header": true,
	"proxy_next_upstream": true, "proxy_next_upstream_tries": true,
	"proxy_next_upstream_timeout": true,
	// fastcgi
	"fastcgi_pass": true, "fastcgi_param": true, "fastcgi_index": true,
	"fastcgi_read_timeout": true, "fastcgi_connect_timeout": true,
	"fastcgi_send_timeout": true, "fastcgi_split_path_info": true,
	"fastcgi_intercept_errors": true, "fastcgi_pass_request_headers": true,
	"fastcgi_pass_request_body": true, "fastcgi_hide_header": true,
	"fastcgi_pass_header": true, "fastcgi_next_upstream": true, "fastcgi_next_upstream_tries": true,
	"fastcgi_next_upstream_timeout": true,
}

// specs indexes nginxDirectives by name, in nginx's module order.
var specs = func() map[string][]Spec {
	m := make(map[string][]Spec, len(nginxDirectives))
	for _, s := range nginxDirectives {
		s.Implemented = implemented[s.Name]
		m[s.Name] = append(m[s.Name], s)
	}
	return m
}()

// Lookup returns nginx's definitions of a directive, in the order nginx
// tries them, or nil for a directive nginx does not know.
func Lookup(name string) []Spec {
	s := specs[name]
	if s == nil {
		return nil
	}
	return append([]Spec(nil), s...)
}

// Implemented reports whether wsgideck's proxy acts on the directive.
func Implemented(name string) bool { return implemented[name] }

// KnownDirectives returns every directive name nginx knows, sorted.
func KnownDirectives() []string {
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
