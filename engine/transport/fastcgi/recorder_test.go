package fastcgi

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Test-side FastCGI pieces: a responder that records what it is sent, and
// builders for the raw records it answers with.

func stdout(s string) string { return string(appendRecord(nil, typeStdout, []byte(s))) }
func stderr(s string) string { return string(appendRecord(nil, typeStderr, []byte(s))) }
func endRequest() string {
	return string(appendRecord(nil, typeEndRequest, []byte{0, 0, 0, 0, 0, 0, 0, 0}))
}

// rawRecord builds a record header by hand, for malformed ones.
func rawRecord(version, typ byte, id uint16, content string, pad int) string {
	h := []byte{version, typ, byte(id >> 8), byte(id), byte(len(content) >> 8), byte(len(content)), byte(pad), 0}
	return string(h) + content + strings.Repeat("\x00", pad)
}

// okResponse is a complete, well-formed answer.
func okResponse(head, body string) string {
	return stdout(head+"\r\n"+body) + stdout("") + endRequest()
}

// requestRecords is one request as read by the recorder.
type requestRecords struct {
	raw    []byte
	params map[string]string
	pairs  [][2]string
	stdin  []byte
}

// readRequestRecords reads records up to the empty STDIN record.
func readRequestRecords(r io.Reader) (*requestRecords, error) {
	var raw bytes.Buffer
	in := io.TeeReader(r, &raw)
	var params, stdin []byte
	for {
		var h [headerSize]byte
		if _, err := io.ReadFull(in, h[:]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint16(h[4:6]))
		content := make([]byte, n+int(h[6]))
		if _, err := io.ReadFull(in, content); err != nil {
			return nil, err
		}
		content = content[:n]
		switch h[1] {
		case typeParams:
			params = append(params, content...)
		case typeStdin:
			if n == 0 {
				req := &requestRecords{raw: raw.Bytes(), params: map[string]string{}, stdin: stdin}
				pairs, err := decodePairs(params)
				if err != nil {
					return nil, err
				}
				req.pairs = pairs
				for _, p := range pairs {
					req.params[p[0]] = p[1]
				}
				return req, nil
			}
			stdin = append(stdin, content...)
		}
	}
}

func decodePairs(b []byte) ([][2]string, error) {
	var pairs [][2]string
	readLen := func() (int, error) {
		if len(b) == 0 {
			return 0, io.ErrUnexpectedEOF
		}
		if b[0] < 128 {
			n := int(b[0])
			b = b[1:]
			return n, nil
		}
		if len(b) < 4 {
			return 0, io.ErrUnexpectedEOF
		}
		n := int(binary.BigEndian.Uint32(b) &^ (1 << 31))
		b = b[4:]
		return n, nil
	}
	for len(b) > 0 {
		kl, err := readLen()
		if err != nil {
			return nil, err
		}
		vl, err := readLen()
		if err != nil {
			return nil, err
		}
		if len(b) < kl+vl {
			return nil, io.ErrUnexpectedEOF
		}
		pairs = append(pairs, [2]string{string(b[:kl]), string(b[kl : kl+vl])})
		b = b[kl+vl:]
	}
	return pairs, nil
}

// recorder is a FastCGI responder that keeps every request it receives and
// answers according to DOCUMENT_URI:
//
//	/close    closes without answering
//	/hang     answers nothing until the peer goes away
//	/resp/KEY answers responses[KEY] verbatim
//	otherwise a small 200 response
type recorder struct {
	addr      string
	requests  chan *requestRecords
	responses map[string]string
}

func startRecorder(t *testing.T, responses map[string]string) *recorder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{addr: l.Addr().String(), requests: make(chan *requestRecords, 16), responses: responses}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go rec.serve(t, c)
		}
	}()
	return rec
}

func (rec *recorder) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req, err := readRequestRecords(c)
	if err != nil {
		t.Errorf("recorder: reading request: %v", err)
		return
	}
	path := req.params["DOCUMENT_URI"]
	switch {
	case path == "/close":
	case path == "/hang":
		io.Copy(io.Discard, c)
	case strings.HasPrefix(path, "/resp/"):
		resp, ok := rec.responses[strings.TrimPrefix(path, "/resp/")]
		if !ok {
			t.Errorf("recorder: no response %q", path)
		}
		c.Write([]byte(resp))
	default:
		c.Write([]byte(okResponse("Content-Type: text/plain\r\n", "recorded")))
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	// Anything after the empty STDIN record belongs to the request too.
	rest, _ := io.ReadAll(c)
	req.raw = append(req.raw, rest...)
	rec.requests <- req
}

func (rec *recorder) next(t *testing.T) *requestRecords {
	t.Helper()
	select {
	case r := <-rec.requests:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the recorder got no request")
		return nil
	}
}

// describe decodes a request for failure messages.
func (r *requestRecords) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bytes\n", len(r.raw))
	for _, p := range r.pairs {
		fmt.Fprintf(&b, "  %q = %q\n", p[0], p[1])
	}
	fmt.Fprintf(&b, "  stdin %d bytes\n", len(r.stdin))
	// The record layout: type and length of each record.
	raw := r.raw
	for len(raw) >= headerSize {
		n := int(binary.BigEndian.Uint16(raw[4:6])) + int(raw[6])
		fmt.Fprintf(&b, "  record type %d content %d padding %d\n", raw[1], n-int(raw[6]), raw[6])
		if len(raw) < headerSize+n {
			break
		}
		raw = raw[headerSize+n:]
	}
	return b.String()
}
