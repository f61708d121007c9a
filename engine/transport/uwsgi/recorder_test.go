package uwsgi

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// recorder is a uwsgi upstream that keeps every packet it receives (header,
// vars and body, byte for byte) and answers according to PATH_INFO:
//
//	/close    closes without answering
//	/hang     answers nothing until the peer goes away
//	/resp/KEY answers responses[KEY] verbatim
//	otherwise a small 200 response
type recorder struct {
	addr      string
	packets   chan []byte
	responses map[string]string
}

func startRecorder(t *testing.T, responses map[string]string) *recorder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{addr: l.Addr().String(), packets: make(chan []byte, 16), responses: responses}
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
	var raw bytes.Buffer
	in := io.TeeReader(c, &raw)
	_, vars, err := uwsgiproto.ReadRequest(in, uwsgiproto.MaxVarsSize)
	if err != nil {
		t.Errorf("recorder: reading packet: %v", err)
		return
	}
	length, _ := vars.Get("CONTENT_LENGTH")
	if n, err := strconv.Atoi(length); err == nil && n > 0 {
		if _, err := io.CopyN(io.Discard, in, int64(n)); err != nil {
			t.Errorf("recorder: reading %d body bytes: %v", n, err)
		}
	}
	path, _ := vars.Get("PATH_INFO")
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
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nrecorded"))
	}
	// Whatever else the client sent (nothing, if CONTENT_LENGTH was right)
	// belongs to the packet too.
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	io.Copy(io.Discard, in)
	rec.packets <- raw.Bytes()
}

// next returns the next recorded packet.
func (rec *recorder) next(t *testing.T) []byte {
	t.Helper()
	select {
	case p := <-rec.packets:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("the recorder got no packet")
		return nil
	}
}

// describePacket decodes a packet for failure messages.
func describePacket(p []byte) string {
	var b strings.Builder
	h, vars, err := uwsgiproto.ReadRequest(bytes.NewReader(p), uwsgiproto.MaxVarsSize)
	if err != nil {
		return "undecodable: " + err.Error()
	}
	b.WriteString("header " + strconv.Itoa(int(h.Modifier1)) + "/" + strconv.Itoa(int(h.Size)) + "/" + strconv.Itoa(int(h.Modifier2)) + "\n")
	for _, v := range vars {
		b.WriteString("  " + strconv.Quote(v.Key) + " = " + strconv.Quote(v.Value) + "\n")
	}
	b.WriteString("  body " + strconv.Quote(string(p[uwsgiproto.HeaderSize+int(h.Size):])) + "\n")
	return b.String()
}
