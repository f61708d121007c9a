package uwsgiproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// nginxPacket is the start of a packet Debian's nginx 1.22 sent (m1=0,
// size=421, m2=0), as recorded in the shared reference.
var nginxHeader = []byte{0x00, 0xa5, 0x01, 0x00}

func TestDecodeHeaderMatchesNginxBytes(t *testing.T) {
	h := DecodeHeader([4]byte(nginxHeader))
	if h.Modifier1 != 0 || h.Size != 421 || h.Modifier2 != 0 {
		t.Fatalf("got %+v, want m1=0 size=421 m2=0", h)
	}
	if got := h.Encode(); !bytes.Equal(got[:], nginxHeader) {
		t.Fatalf("encode: got % x, want % x", got, nginxHeader)
	}
}

func TestRoundTripWithDuplicatesAndEmptyValues(t *testing.T) {
	in := Vars{{"REQUEST_METHOD", "GET"}, {"CONTENT_TYPE", ""}, {"HTTP_COOKIE", "a=1"}, {"HTTP_COOKIE", "b=2"}, {"PATH_INFO", "/caf\xe9"}}
	pkt, err := AppendRequest(nil, 0, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	pkt = append(pkt, "body"...)
	r := bufio.NewReader(bytes.NewReader(pkt))
	h, out, err := ReadRequest(r, DefaultBufferSize)
	if err != nil {
		t.Fatal(err)
	}
	if int(h.Size) != in.Size() {
		t.Errorf("size %d, want %d", h.Size, in.Size())
	}
	if len(out) != len(in) {
		t.Fatalf("got %d vars, want %d", len(out), len(in))
	}
	for i := range in {
		if in[i] != out[i] {
			t.Errorf("var %d: got %q, want %q", i, out[i], in[i])
		}
	}
	if v, _ := out.Get("HTTP_COOKIE"); v != "b=2" {
		t.Errorf("duplicate key: got %q, want the last value b=2", v)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "body" {
		t.Errorf("body left in reader: %q", rest)
	}
}

func TestHTTPSentToUwsgiSocket(t *testing.T) {
	_, _, err := ReadRequest(strings.NewReader("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), DefaultBufferSize)
	var bse *BlockSizeError
	if !errors.As(err, &bse) {
		t.Fatalf("got %v, want a BlockSizeError", err)
	}
	if bse.Size != 21573 || bse.Max != 4096 {
		t.Errorf("got size %d max %d, want 21573 and 4096", bse.Size, bse.Max)
	}
	if want := "invalid request block size: 21573 (max 4096)...skip"; bse.Error() != want {
		t.Errorf("message %q, want %q", bse.Error(), want)
	}
	if !bse.LooksLikeHTTP || !strings.Contains(bse.Hint(), "http-socket") {
		t.Errorf("want an http-socket hint, got %q", bse.Hint())
	}
}

func TestOversizeBinaryBlockIsNotCalledHTTP(t *testing.T) {
	vars := Vars{{"X", strings.Repeat("a", 5000)}}
	pkt, _ := AppendRequest(nil, 0, 0, vars)
	_, _, err := ReadRequest(bytes.NewReader(pkt), DefaultBufferSize)
	var bse *BlockSizeError
	if !errors.As(err, &bse) || bse.LooksLikeHTTP {
		t.Fatalf("got %v, want a non-HTTP block size error", err)
	}
	if _, _, err := ReadRequest(bytes.NewReader(pkt), 8192); err != nil {
		t.Fatalf("with buffer-size 8192: %v", err)
	}
}

func TestMalformedBlocks(t *testing.T) {
	cases := map[string][]byte{
		"null key":         {0, 0, 1, 0, 'x'},
		"truncated key":    {5, 0, 'a'},
		"missing val size": {1, 0, 'a'},
		"truncated value":  {1, 0, 'a', 9, 0, 'b'},
		"odd trailing":     {1, 0, 'a', 0, 0, 7},
	}
	for name, block := range cases {
		if _, err := ParseVars(block); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ParseVars([]byte{0, 0, 1, 0, 'x'}); !errors.Is(err, ErrNullKey) {
		t.Errorf("null key: got %v", err)
	}
}

func TestTooBigToEncode(t *testing.T) {
	_, err := AppendRequest(nil, 0, 0, Vars{{"K", strings.Repeat("v", 70000)}})
	if !errors.Is(err, ErrTooBig) {
		t.Fatalf("got %v, want ErrTooBig", err)
	}
}

func FuzzParseVars(f *testing.F) {
	seed, _ := AppendRequest(nil, 0, 0, Vars{{"A", "1"}, {"B", ""}})
	f.Add(seed[HeaderSize:])
	f.Add([]byte{0, 0})
	f.Add([]byte{1, 0, 'a', 1})
	f.Fuzz(func(t *testing.T, block []byte) {
		vars, err := ParseVars(block)
		if err != nil {
			return
		}
		// A block that parses must re-encode to the same bytes.
		pkt, err := AppendRequest(nil, 0, 0, vars)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(pkt[HeaderSize:], block) {
			t.Fatalf("round trip changed the block:\n in % x\nout % x", block, pkt[HeaderSize:])
		}
	})
}
