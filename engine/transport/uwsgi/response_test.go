package uwsgi

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"reflect"
	"testing"
	"testing/iotest"
)

// readResult is everything readResponse produced from one byte stream.
type readResult struct {
	Status string
	Header map[string][]string
	Body   string
	Err    string
	Length int64
}

func readAllResponse(t *testing.T, r io.Reader, method string) (readResult, []byte) {
	var res readResult
	closed := false
	tr := &Transport{BufferSize: 512}
	req := httptest.NewRequest(method, "http://app.example/", nil)
	resp, err := tr.readResponse(r, req, "uwsgi://test", func() { closed = true })
	if err != nil {
		var ue *Error
		if !errors.As(err, &ue) || ue.Status != 502 || ue.Phase != ReadingHeader {
			t.Fatalf("head error %v is not a 502 *Error while reading the header", err)
		}
		res.Err = err.Error()
		return res, nil
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
	if !closed {
		t.Fatal("the connection was not released")
	}
	res.Status, res.Header, res.Body, res.Length = resp.Status, resp.Header, string(body), resp.ContentLength
	return res, body
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
		method := "GET"
		if head {
			method = "HEAD"
		}
		whole, body := readAllResponse(t, bytes.NewReader(data), method)
		split, _ := readAllResponse(t, iotest.OneByteReader(bytes.NewReader(data)), method)
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("whole read:\n%+v\nbyte by byte:\n%+v", whole, split)
		}
		if whole.Err == "" && !bytes.Contains(data, body) {
			t.Fatalf("body %q is not from the input %q", body, data)
		}
	})
}
