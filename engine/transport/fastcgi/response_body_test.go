package fastcgi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"reflect"
	"testing"
	"testing/iotest"
)

// readResult is everything readResponse produced from one byte stream.
type readResult struct {
	Status  string
	Header  map[string][]string
	Body    string
	Err     string
	Logs    []string
	Closed  bool
	Length  int64
	Invalid bool
}

func readAllResponse(t *testing.T, r io.Reader, method string) readResult {
	var logs logCollector
	var res readResult
	tr := &Transport{BufferSize: 512}
	req := httptest.NewRequest(method, "http://app.example/", nil)
	resp, err := tr.readResponse(r, req, logs.logf, "fastcgi://test", func() { res.Closed = true })
	if err != nil {
		var ue *Error
		if !errors.As(err, &ue) || ue.Status != 502 || ue.Phase != ReadingHeader {
			t.Fatalf("head error %v is not a 502 *Error while reading the header", err)
		}
		res.Err = err.Error()
		res.Logs = logs.lines
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
	res.Status, res.Header, res.Body, res.Logs, res.Length = resp.Status, resp.Header, string(body), logs.lines, resp.ContentLength
	if !res.Closed {
		t.Fatal("the connection was not released")
	}
	return res
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
		method := "GET"
		if head {
			method = "HEAD"
		}
		whole := readAllResponse(t, bytes.NewReader(data), method)
		split := readAllResponse(t, iotest.OneByteReader(bytes.NewReader(data)), method)
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("whole read:\n%+v\nbyte by byte:\n%+v", whole, split)
		}
	})
}

// FuzzHeadParser checks that the CGI head parser gives the same head, the
// same body start and the same error however STDOUT is split into records.
func FuzzHeadParser(f *testing.F) {
	f.Add([]byte("Status: 404 Not Found\r\nX-A: 1\r\n\r\nbody"), uint(7))
	f.Add([]byte("Location: /x\n\n"), uint(1))
	f.Add([]byte("Bad Header: x\r\n\r\n"), uint(3))
	f.Add([]byte("X-A: a\rb\r\n\r\n"), uint(6))
	f.Fuzz(func(t *testing.T, data []byte, cut uint) {
		feed := func(parts ...[]byte) string {
			p := newHeadParser()
			for i, part := range parts {
				rest, done, err := p.feed(part)
				if err != nil {
					return "error: " + err.Error()
				}
				if done {
					h, err := p.finish()
					if err != nil {
						return "error: " + err.Error()
					}
					body := append([]byte(nil), rest...)
					for _, later := range parts[i+1:] {
						body = append(body, later...)
					}
					return fmt.Sprintf("%d %q %v %d body %q", h.status, h.statusLine, h.header, h.contentLength, body)
				}
			}
			return "incomplete"
		}
		at := int(cut % uint(len(data)+1))
		whole := feed(data)
		split := feed(data[:at], data[at:])
		if whole != split {
			t.Fatalf("whole: %s\nsplit at %d: %s", whole, at, split)
		}
	})
}
