package uwsgi

import (
	"net/http"
	"testing"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// debianUwsgiParams is the params file Debian's nginx ships and most configs
// include; the tests evaluate it the way nginx does.
const debianUwsgiParams = "/etc/nginx/uwsgi_params"

// withDebianParams attaches Debian's uwsgi_params, evaluated for r.
func withDebianParams(t testing.TB, r *http.Request, extra ...string) *http.Request {
	t.Helper()
	return upstreamtest.WithNginxParams(t, r, debianUwsgiParams, extra...)
}
