package fastcgi

import (
	"io"
	"net/http"
	"testing"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// readResult is everything readResponse produced from one byte stream,
// log lines included.
type readResult struct {
	upstreamtest.ReadResult
	Logs []string
}

func readAllResponse(t testing.TB, r io.Reader, method string) readResult {
	var logs logCollector
	tr := &Transport{BufferSize: 512}
	res := upstreamtest.ReadAll(t, r, method, func(conn io.Reader, req *http.Request, release func()) (*http.Response, error) {
		return tr.readTestResponse(conn, req, logs.logf, release)
	})
	return readResult{res, logs.lines}
}

// FuzzReadResponse feeds arbitrary byte streams to the record reader and
// the CGI head and body readers. Nothing may panic, every failure must be an
// *Error, and the result must not depend on how the bytes are split into
// reads.
func FuzzReadResponse(f *testing.F) {
	for _, seed := range upstreamResponses {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte(okResponse("Content-Length: 4\r\n", "body")), true)
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		upstreamtest.ReadTwice(t, data, head, readAllResponse)
	})
}
