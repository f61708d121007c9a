package uwsgi

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// startRecorder starts a uwsgi upstream that keeps every packet it receives
// (header, vars and body, byte for byte) and answers by PATH_INFO as
// upstreamtest.Answer scripts it.
func startRecorder(t *testing.T, responses map[string]string) *peertest.Recorder[struct{}] {
	return peertest.StartRecorder(t, func(c net.Conn, in io.Reader) (struct{}, error) {
		_, vars, err := uwsgiproto.ReadRequest(in, uwsgiproto.MaxVarsSize)
		if err != nil {
			return struct{}{}, fmt.Errorf("reading packet: %w", err)
		}
		length, _ := vars.Get("CONTENT_LENGTH")
		if n, err := strconv.Atoi(length); err == nil && n > 0 {
			if _, err := io.CopyN(io.Discard, in, int64(n)); err != nil {
				return struct{}{}, fmt.Errorf("reading %d body bytes: %w", n, err)
			}
		}
		path, _ := vars.Get("PATH_INFO")
		return struct{}{}, upstreamtest.Answer(c, path, responses, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nrecorded")
	})
}

// describePacket decodes a recorded packet for failure messages.
func describePacket(rec peertest.Recording[struct{}]) string {
	p := rec.Raw
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
