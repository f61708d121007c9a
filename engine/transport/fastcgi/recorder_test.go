package fastcgi

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/transport/internal/upstreamtest"
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
	params map[string]string
	pairs  [][2]string
	stdin  []byte
}

// readRequestRecords reads records up to the empty STDIN record.
func readRequestRecords(in io.Reader) (*requestRecords, error) {
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
				req := &requestRecords{params: map[string]string{}, stdin: stdin}
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

// startRecorder starts a FastCGI responder that keeps every request it
// receives, byte for byte, and answers by DOCUMENT_URI as
// upstreamtest.Answer scripts it.
func startRecorder(t *testing.T, responses map[string]string) *peertest.Recorder[*requestRecords] {
	return peertest.StartRecorder(t, func(c net.Conn, in io.Reader) (*requestRecords, error) {
		req, err := readRequestRecords(in)
		if err != nil {
			return nil, fmt.Errorf("reading request: %w", err)
		}
		return req, upstreamtest.Answer(c, req.params["DOCUMENT_URI"], responses, okResponse("Content-Type: text/plain\r\n", "recorded"))
	})
}

// describe decodes a recorded request for failure messages.
func describe(rec peertest.Recording[*requestRecords]) string {
	var b strings.Builder
	r := rec.Value
	fmt.Fprintf(&b, "%d bytes\n", len(rec.Raw))
	for _, p := range r.pairs {
		fmt.Fprintf(&b, "  %q = %q\n", p[0], p[1])
	}
	fmt.Fprintf(&b, "  stdin %d bytes\n", len(r.stdin))
	// The record layout: type and length of each record.
	raw := rec.Raw
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
