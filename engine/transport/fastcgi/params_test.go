package fastcgi

import (
	"net/http"
	"testing"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// debianFastcgiParams is the params file Debian's nginx ships and most
// configs include; the tests evaluate it the way nginx does.
const debianFastcgiParams = "/etc/nginx/fastcgi_params"

// withDebianParams attaches Debian's fastcgi_params, evaluated for r.
func withDebianParams(t testing.TB, r *http.Request, extra ...string) *http.Request {
	t.Helper()
	return upstreamtest.WithNginxParams(t, r, debianFastcgiParams, extra...)
}
