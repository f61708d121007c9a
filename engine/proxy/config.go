package proxy

import (
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"net/netip"
	"regexp"
	"time"
)

// Config is a compiled nginx configuration: everything the request path
// needs, resolved, merged and compiled. It is immutable once built and may be
// shared by any number of connections; a reload builds a new one.
type Config struct {
	// File is the main config file it was compiled from; Prefix the
	// prefix relative paths were resolved against.
	File, Prefix string

	// Listens are the addresses to listen on, in config order.
	Listens []*Listen

	// ErrorLog is the main error log's path ("" means stderr) and level.
	ErrorLog      string
	ErrorLogLevel int

	// Warnings are the notes compile produced that do not stop the config:
	// directives wsgideck accepts but does not act on, and the like.
	Warnings []string

	// PIDFile is the pid directive's path, or "".
	PIDFile string

	// WorkerProcesses is worker_processes: nginx's number of
	// single-threaded worker processes, 1 when the directive is absent, 0
	// for "auto" (one per CPU). wsgideck serves from one process; a
	// command running the proxy maps this to the number of threads that
	// run Go code at once (GOMAXPROCS).
	WorkerProcesses int

	http      *httpConf
	upstreams map[string]*upstream
	// implicit are the groups of the literal *_pass addresses, by
	// lower-cased "host:port": one group per address, shared by every
	// directive naming it, and found by addresses made of variables, as
	// nginx's implicit upstreams are.
	implicit map[string]*upstream
	vars     *varTable
	// logs are the access log files the config opens, by path.
	logs map[string]*logFile
	// reqZones and connZones are the limit_req_zone and limit_conn_zone
	// zones, by name.
	reqZones  map[string]*reqZone
	connZones map[string]*connZone
}

// httpConf is what the http block holds besides the location settings.
type httpConf struct {
	conf *locConf
	maps []*varMap
}

// Listen is one listening address and the virtual servers on it.
type Listen struct {
	// Network is "tcp" or "unix"; Addr is "host:port" (host may be empty
	// or "*" for all addresses, "[::]" for IPv6) or the socket path.
	Network, Addr string
	// Port is the TCP port, for $server_port and redirects.
	Port string
	// Wildcard is set for an address that listens on every interface.
	Wildcard bool
	// IPv6Only is the ipv6only parameter (nginx's default is on).
	IPv6Only bool

	servers         []*vserver
	defaultServer   *vserver
	explicitDefault bool
	// optsSet: a listen of this address gave socket options
	optsSet bool
	names   *serverNames
}

// vserver is one server {} block.
type vserver struct {
	// names are the server_name entries in config order; name is the first
	// one (what $server_name and server_name_in_redirect use).
	names []string
	name  string
	// nameRegexps are the compiled "~" names, at the index of their
	// entry in names (nil for the other names): compiled once, when the
	// server_name directive is read, and shared by every address.
	nameRegexps []*regexp.Regexp

	conf      *locConf // the server level's own settings
	script    *script  // server-level rewrite module directives
	locations *locTree
	named     map[string]*location

	mergeSlashes         bool
	underscoresInHeaders bool
	ignoreInvalidHeaders bool
	headerTimeout        time.Duration
	largeHeaderBuffer    int
	largeHeaderBuffers   int

	file string
	line int
}

// locKind is how a location matches.
type locKind uint8

const (
	locPrefix  locKind = iota // location /x
	locNoRegex                // location ^~ /x
	locExact                  // location = /x
	locRegex                  // location ~ re, ~* re
	locNamed                  // location @x
	locIf                     // the body of an "if"
	locLimitExcept
)

// location is one location {} block (or the pseudo-location of an if {} or
// limit_except {} block).
type location struct {
	kind   locKind
	name   string
	re     *regexp.Regexp
	conf   *locConf
	nested *locTree
}

// locTree is the locations of one level (a server, or a location's nested
// locations).
type locTree struct {
	exact    map[string]*location
	prefixes []*location // longest first
	regexes  []*location // config order
}

// locConf is a location's settings after nginx's inheritance: every field
// holds its effective value.
type locConf struct {
	loc *location // the location these settings belong to; nil for server/http

	// content handler
	handler handlerKind
	proxy   *proxyPass
	uwsgi   *uwsgiPass
	fastcgi *fastcgiPass

	// files
	root          *complexValue
	alias         bool
	rootPath      string // the literal root or alias, when it has no variables
	index         []*complexValue
	autoindex     bool
	autoindexFmt  string
	autoindexSize bool
	autoindexLT   bool
	tryFiles      []tryFile
	tryFilesLast  tryFilesTarget
	hasTryFiles   bool

	types       map[string]string
	defaultType string
	charset     string
	// charsetTypes is charset_types' list ("*" for any type); nil is
	// nginx's default list.
	charsetTypes map[string]bool
	// sourceCharset is source_charset, and sourceCharsetAt where it was
	// set: wsgideck does not recode, so a pair nginx would recode is
	// refused or warned about (see checkCharsets).
	sourceCharset   string
	sourceCharsetAt string

	errorPages     []*errorPage
	recursiveError bool
	internal       bool
	// resolver is set by a resolver directive at this level or above:
	// *_pass addresses made of variables may then name hosts.
	resolver    bool
	logNotFound bool

	clientMaxBodySize int64
	bodyTimeout       time.Duration
	sendTimeout       time.Duration
	keepaliveTimeout  time.Duration
	keepaliveHeader   time.Duration
	keepaliveRequests int

	chunkedTE            bool // chunked_transfer_encoding
	absoluteRedirect     bool
	serverNameInRedirect bool
	portInRedirect       bool
	serverTokens         int // serverTokensOn, Off or Build
	ifModifiedSince      int // imsOff, imsExact, imsBefore
	etag                 bool
	maxRanges            int // -1: unlimited

	access       []accessRule
	limitExcept  *limitExcept
	limits       limitConf
	addHeaders   []*addHeader
	expires      expires
	gzip         gzipConf
	accessLogs   []*accessLog
	accessLogOff bool
	script       *script

	proxyConf   passConf
	uwsgiConf   passConf
	fastcgiConf passConf

	// set tracks which directives this level wrote, for merging.
	set map[string]bool
}

type handlerKind uint8

const (
	handlerStatic handlerKind = iota
	handlerProxy
	handlerUWSGI
	handlerFastCGI
)

const (
	serverTokensOn = iota
	serverTokensOff
	serverTokensBuild
)

const (
	imsOff = iota
	imsExact
	imsBefore
)

// tryFile is one file argument of try_files.
type tryFile struct {
	name *complexValue // without the trailing "/" of a directory test
	// testDir is set by a trailing "/": only a directory matches.
	testDir bool
}

// tryFilesTarget is the last argument of try_files.
type tryFilesTarget struct {
	code int           // =code, or 0
	uri  *complexValue // a URI or @name
}

// errorPage is one status code's error_page entry.
type errorPage struct {
	status    int
	overwrite int // -1: keep the original status; 0: "=" (the target's)
	value     *complexValue
}

// accessRule is an allow or deny line.
type accessRule struct {
	deny   bool
	all    bool
	prefix netip.Prefix
	unix   bool
}

// limitExcept is a limit_except block: the methods it names are let
// through, every other one gets the block's access rules.
type limitExcept struct {
	methods map[string]bool
	// conf is the block's settings: the location's, without its rewrite
	// directives, with the block's access rules.
	conf      *locConf
	directive *nginxconf.Directive
}

// addHeader is an add_header line.
type addHeader struct {
	name   string
	value  *complexValue
	always bool
}

// expires is the expires directive.
type expires struct {
	mode   int // expiresOff, expiresEpoch, expiresMax, expiresAccess, expiresModified, expiresDaily, expiresUnset
	offset time.Duration
	value  *complexValue // a value with variables, evaluated per request
}

const (
	expiresUnset = iota
	expiresOff
	expiresEpoch
	expiresMax
	expiresAccess
	expiresModified
	expiresDaily
)

// gzipConf is the gzip settings.
type gzipConf struct {
	on          bool
	types       map[string]bool
	anyType     bool
	minLength   int64
	level       int
	vary        bool
	proxied     int // gzip_proxied bits
	httpVersion int // 10 or 11
	disableMSIE bool
	disable     []*regexp.Regexp
}
