package upstreamtest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// ReadResult is everything a transport's response reader made of one byte
// stream, for the fuzz targets that compare a whole read with a byte-by-byte
// one.
type ReadResult struct {
	Status string
	Header map[string][]string
	Body   string
	Err    string
	Length int64
}

// ReadAll runs read (a transport's response reader, its other arguments
// bound) over r for a request with method, then reads the body to its end
// and closes it. It fails the test where the reader breaks its contract: a
// head failure other than a 502 *upstream.Error while reading the header, a
// status net/http cannot send, a body past its Content-Length, or a
// connection not released at the end of the body.
func ReadAll(t testing.TB, r io.Reader, method string, read func(conn io.Reader, req *http.Request, release func()) (*http.Response, error)) ReadResult {
	t.Helper()
	var res ReadResult
	released := false
	req := httptest.NewRequest(method, "http://app.example/", nil)
	resp, err := read(r, req, func() { released = true })
	if err != nil {
		var ue *upstream.Error
		if !errors.As(err, &ue) || ue.Status != 502 || ue.Phase != upstream.ReadingHeader {
			t.Fatalf("head error %v is not a 502 *Error while reading the header", err)
		}
		res.Err = err.Error()
		return res
	}
	if resp.StatusCode < 100 || resp.StatusCode > 999 {
		t.Fatalf("status %d cannot be sent", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		res.Err = err.Error()
	}
	if resp.ContentLength >= 0 && int64(len(body)) > resp.ContentLength {
		t.Fatalf("body of %d bytes exceeds Content-Length %d", len(body), resp.ContentLength)
	}
	if !released {
		t.Fatal("the connection was not released")
	}
	res.Status, res.Header, res.Body, res.Length = resp.Status, resp.Header, string(body), resp.ContentLength
	return res
}

// ReadTwice runs read over data twice, for a GET or, with head, a HEAD
// request: once whole, once one byte per Read. It fails the test if the
// two results differ, and returns the first.
func ReadTwice[T any](t testing.TB, data []byte, head bool, read func(t testing.TB, r io.Reader, method string) T) T {
	t.Helper()
	method := http.MethodGet
	if head {
		method = http.MethodHead
	}
	whole := read(t, bytes.NewReader(data), method)
	split := read(t, iotest.OneByteReader(bytes.NewReader(data)), method)
	if !reflect.DeepEqual(whole, split) {
		t.Fatalf("whole read:\n%+v\nbyte by byte:\n%+v", whole, split)
	}
	return whole
}
