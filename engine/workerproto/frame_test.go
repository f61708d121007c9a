package workerproto

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRequestRoundTrip(t *testing.T) {
	env := []byte("REQUEST_METHOD\x00POST\x00PATH_INFO\x00/caf\xe9")
	pkt := AppendRequest(nil, env, 10, []byte("body"))
	r := NewReader(bytes.NewReader(pkt), 64)
	h, err := r.Next()
	if err != nil || h.Type != TypeRequest || h.Len != 12+len(env)+4 {
		t.Fatalf("header %v, %v", h, err)
	}
	p, err := r.Payload(h)
	if err != nil {
		t.Fatal(err)
	}
	gotEnv, n, body, err := ParseRequest(p)
	if err != nil || !bytes.Equal(gotEnv, env) || string(body) != "body" || n != 10 {
		t.Fatalf("got env %q body %q err %v", gotEnv, body, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the frame: %v, want EOF", err)
	}
}

func TestBufferedBodyAndCopy(t *testing.T) {
	var pkt []byte
	pkt = AppendFrame(pkt, TypeHeaders, []byte("200 OK\r\nContent-Type: text/plain\r\n"))
	pkt = AppendFrame(pkt, TypeBody, []byte("hello "))
	pkt = AppendFrame(pkt, TypeBody, []byte("world"))
	pkt = AppendEnd(pkt, End{Outcome: OutcomeOK, Switches: 2, App: 0})
	r := NewReader(bytes.NewReader(pkt), 4096)
	h, _ := r.Next()
	p, _ := r.Payload(h)
	head, err := ParseHeaders(p)
	if err != nil || head.Code != 200 || head.Count != 1 || head.ContentLength != -1 {
		t.Fatalf("head %+v err %v", head, err)
	}
	size, complete := r.BufferedBody()
	if !complete || size != 11 {
		t.Fatalf("BufferedBody = %d, %v; want 11, true", size, complete)
	}
	var out bytes.Buffer
	for {
		h, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if h.Type == TypeEnd {
			p, _ := r.Payload(h)
			e, err := ParseEnd(p)
			if err != nil || e.Switches != 2 || e.App != 0 || e.Outcome != OutcomeOK {
				t.Fatalf("end %+v %v", e, err)
			}
			break
		}
		if _, werr, err := r.CopyPayload(&out, h); werr != nil || err != nil {
			t.Fatal(werr, err)
		}
	}
	if out.String() != "hello world" {
		t.Fatalf("body %q", out.String())
	}
}

func TestBufferedBodyAbortIsNotComplete(t *testing.T) {
	var pkt []byte
	pkt = AppendFrame(pkt, TypeBody, []byte("partial"))
	pkt = AppendEnd(pkt, End{Outcome: OutcomeAbort})
	r := NewReader(bytes.NewReader(pkt), 4096)
	r.br.Peek(len(pkt))
	if _, complete := r.BufferedBody(); complete {
		t.Fatal("a response ending in an exception was called complete")
	}
}

func TestBufferedBodyIncomplete(t *testing.T) {
	var pkt []byte
	pkt = AppendFrame(pkt, TypeBody, []byte("partial"))
	r := NewReader(bytes.NewReader(pkt), 4096)
	r.br.Peek(len(pkt))
	if _, complete := r.BufferedBody(); complete {
		t.Fatal("a response without END was called complete")
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("client gone") }

func TestCopyPayloadKeepsStepAfterWriteError(t *testing.T) {
	var pkt []byte
	pkt = AppendFrame(pkt, TypeBody, bytes.Repeat([]byte("x"), 10000))
	pkt = AppendEnd(pkt, End{App: -1})
	r := NewReader(bytes.NewReader(pkt), 512)
	h, _ := r.Next()
	_, werr, err := r.CopyPayload(failWriter{}, h)
	if werr == nil || err != nil {
		t.Fatalf("werr %v err %v", werr, err)
	}
	h, err = r.Next()
	if err != nil || h.Type != TypeEnd {
		t.Fatalf("after a failed copy: %v %v", h, err)
	}
	p, _ := r.Payload(h)
	if e, _ := ParseEnd(p); e.App != -1 {
		t.Fatalf("app %d, want -1", e.App)
	}
}

func TestTruncatedFrames(t *testing.T) {
	r := NewReader(bytes.NewReader([]byte{TypeBody, 10, 0}), 64)
	if _, err := r.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("short header: %v", err)
	}
	r = NewReader(bytes.NewReader(AppendHeader(nil, TypeHeaders, 10)), 64)
	h, _ := r.Next()
	if _, err := r.Payload(h); err != io.ErrUnexpectedEOF {
		t.Fatalf("short payload: %v", err)
	}
	r = NewReader(bytes.NewReader(AppendHeader(nil, TypeHeaders, MaxControlPayload+1)), 64)
	h, _ = r.Next()
	if _, err := r.Payload(h); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("huge control frame: %v", err)
	}
}

func TestParseHeaders(t *testing.T) {
	h, err := ParseHeaders([]byte("404\r\ncontent-length: 12\r\nConnection: Keep-Alive, close\r\nX-Caf\xe9: ok\r\n"))
	if err == nil {
		t.Fatal("a non-token header name was accepted")
	}
	h, err = ParseHeaders([]byte("404\r\ncontent-length: 12\r\nConnection: Keep-Alive, close\r\nX-A: caf\xe9\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if h.Code != 404 || h.ContentLength != 12 || !h.Close || h.Count != 3 {
		t.Fatalf("%+v", h)
	}
	if got := string(h.AppendStatus(nil)); got != "404 Not Found" {
		t.Fatalf("bare status became %q", got)
	}
	ok, _ := ParseHeaders([]byte("299 Custom Thing\r\n"))
	if got := string(ok.AppendStatus(nil)); got != "299 Custom Thing" {
		t.Fatalf("custom status became %q", got)
	}
	bad := []string{
		"OK\r\n",
		"20 OK\r\n",
		"200OK\r\n",
		"200 OK",
		"200 OK\r\nX: a\nInjected: 1\r\n",
		"200 OK\r\nX: a\rb\r\n",
		"200 OK\r\nNoColon\r\n",
		"200 OK\r\n: empty\r\n",
		"200 OK\r\nContent-Length: ten\r\n",
		"200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
		"200 O\x00K\r\n",
		"099 Low\r\n",
	}
	for _, s := range bad {
		if _, err := ParseHeaders([]byte(s)); err == nil {
			t.Errorf("%q was accepted", s)
		}
	}
}

func TestReady(t *testing.T) {
	r, err := ParseReady([]byte(`{"pid":12,"app":-1,"error":"ModuleNotFoundError: No module named 'x'","seconds":0.5}`))
	if err != nil || r.PID != 12 || r.App != -1 || !strings.Contains(r.Error, "No module") {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseReady([]byte("{")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

// FuzzReader drives the master's side of a channel with arbitrary worker
// output: it must never panic, and every accepted HEADERS frame must be one
// the frontends can write without letting the app split the response.
func FuzzReader(f *testing.F) {
	var ok []byte
	ok = AppendFrame(ok, TypeHeaders, []byte("200 OK\r\nContent-Length: 2\r\n"))
	ok = AppendFrame(ok, TypeBody, []byte("hi"))
	ok = AppendEnd(ok, End{Switches: 1})
	f.Add(ok)
	f.Add(AppendFrame(nil, TypeRead, []byte{1, 0, 0, 0}))
	f.Add(AppendFrame(nil, TypeReady, []byte(`{"pid":1,"app":0}`)))
	f.Add([]byte{TypeEnd, 6, 0, 0, 0, 9, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 16)
		for {
			r.BufferedBody()
			h, err := r.Next()
			if err != nil {
				return
			}
			switch h.Type {
			case TypeBody:
				if _, _, err := r.CopyPayload(io.Discard, h); err != nil {
					return
				}
				continue
			}
			p, err := r.Payload(h)
			if err != nil {
				return
			}
			switch h.Type {
			case TypeHeaders:
				head, err := ParseHeaders(p)
				if err == nil {
					line := head.AppendStatus(nil)
					if bytes.ContainsAny(line, "\r\n") || bytes.Count(head.Lines, crlf) != head.Count || bytes.Count(head.Lines, []byte("\n")) != head.Count {
						t.Fatalf("accepted a splittable head %q", p)
					}
				}
			case TypeEnd:
				ParseEnd(p)
			case TypeRead:
				ParseRead(p)
			case TypeReady:
				ParseReady(p)
			case TypeRequest:
				ParseRequest(p)
			}
		}
	})
}
