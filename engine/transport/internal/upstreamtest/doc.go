// Package upstreamtest is the test harness the uwsgi and fastcgi transports
// share: real nginx as the oracle (with its warnings logged), Debian's
// params files evaluated as nginx evaluates them, raw exchanges with nginx,
// real uWSGI serving small WSGI apps, and the script their recording
// upstreams answer by. The processes themselves come from
// engine/internal/peertest.
package upstreamtest
