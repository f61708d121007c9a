package uwsgi

import (
	"bytes"
	"io"
	"testing"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
)

// readAllResponse reads one upstream answer as the transport does.
func readAllResponse(t testing.TB, r io.Reader, method string) upstreamtest.ReadResult {
	tr := &Transport{BufferSize: 512}
	return upstreamtest.ReadAll(t, r, method, tr.readTestResponse)
}

// FuzzReadResponse feeds arbitrary upstream answers to the response reader
// (status line or CGI head, then the body up to Content-Length or EOF).
// Nothing may panic, a failed head must be a 502 *Error, the body must be
// the bytes after the head, and the result must not depend on how the bytes
// are split into reads.
func FuzzReadResponse(f *testing.F) {
	for _, seed := range upstreamResponses {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), true)
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		whole := upstreamtest.ReadTwice(t, data, head, readAllResponse)
		if whole.Err == "" && !bytes.Contains(data, []byte(whole.Body)) {
			t.Fatalf("body %q is not from the input %q", whole.Body, data)
		}
	})
}
