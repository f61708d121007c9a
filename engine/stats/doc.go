// Package stats is the engine's uWSGI-compatible stats server: the JSON
// document uWSGI 2.0.21 writes on its `stats` socket
// (core/master_utils.c uwsgi_master_generate_stats), and the server that
// hands it out the way uWSGI's master does (core/stats.c, core/utils.c), so
// uwsgitop and every other uWSGI stats reader work against wsgideck
// unchanged.
//
// The master describes itself in a Snapshot; AppendJSON encodes it; a
// Server listens on the `stats` address and writes one document per
// connection, built from a func() Snapshot callback the master provides.
//
// # Compatibility
//
// The document has uWSGI's keys in uWSGI's order and uWSGI's hand-built
// layout byte for byte: a newline after every '{', '[' and ',', one tab per
// nesting level, "key":value with no space, no trailing newline, and its
// quirks (the strings of a core's "vars" list start at column 0; "req_info"
// gets its indentation after the colon). `stats-minified` drops all of that
// whitespace. "daemons" is written, as uWSGI writes it, when the master runs
// external daemons; the other optional sections uWSGI only emits when their
// feature is in use (caches, metrics, spoolers, crons, legions) are never
// emitted: the engine has none of those features.
//
// # Where wsgideck does better than uWSGI
//
//   - A daemon's "respawns" counts its respawns. uWSGI 2.0.21 writes
//     `ud->respawns ? 0 : ud->respawns`, which is always 0 (checked
//     against the Debian package with a daemon that exits every second).
//   - rss and vsz are always filled by the engine. uWSGI leaves them 0
//     unless memory-report (or a reload-on-* option) is set; here they come
//     from the metrics sampler, which measures every worker anyway. The
//     encoder writes whatever the Snapshot holds.
//   - Strings are escaped completely. uWSGI 2.0.21 escapes '"', '\' and
//     tab, but passes other control bytes and bytes that are not UTF-8
//     straight through, so a request header holding one makes the whole
//     document unreadable by json.loads (checked against the Debian
//     package). Here every control character is escaped, valid UTF-8 is
//     written as \uXXXX escapes (the output is pure ASCII, so a reader that
//     decodes each recv() chunk separately, as uwsgitop does, never sees a
//     character split across chunks), and every byte that is not part of
//     valid UTF-8 becomes \ufffd, as in Go's encoding/json.
//   - With stats-http the server reads the request head up to its blank
//     line (at most 4096 bytes, within the socket timeout) instead of
//     answering after the first read(), and half-closes before closing, so
//     a client whose request arrives in pieces, or who sends a body, still
//     gets the whole document instead of a connection reset.
package stats
