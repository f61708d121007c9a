package fastcgi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// request builds a client's request stream.
func request(id uint16, keep bool, params uwsgiproto.Vars, stdin string) []byte {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := NewWriter(bw)
	flags := byte(0)
	if keep {
		flags = FlagKeepConn
	}
	w.Record(TypeBeginRequest, id, []byte{0, RoleResponder, flags, 0, 0, 0, 0, 0})
	p := AppendParams(nil, params)
	for len(p) > 0 {
		n := min(len(p), 7) // split across records on purpose
		w.Record(TypeParams, id, p[:n])
		p = p[n:]
	}
	w.Record(TypeParams, id, nil)
	if stdin != "" {
		w.Stream(TypeStdin, id, []byte(stdin))
	}
	w.Record(TypeStdin, id, nil)
	w.Flush()
	return buf.Bytes()
}

func TestRequestAndStdin(t *testing.T) {
	long := strings.Repeat("v", 300) // a 4-byte length
	params := pairs("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "5", "LONG", long, "EMPTY", "")
	data := request(7, true, params, "hello")
	var out bytes.Buffer
	r := NewReader(bufio.NewReader(bytes.NewReader(data)))
	w := NewWriter(bufio.NewWriter(&out))
	req, err := r.ReadRequest(w, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if req.ID != 7 || req.Role != RoleResponder || !req.KeepConn || len(req.Params) != 4 {
		t.Fatalf("%+v", req)
	}
	for i := range params {
		if req.Params[i] != params[i] {
			t.Errorf("param %d: %q, want %q", i, req.Params[i], params[i])
		}
	}
	body, err := io.ReadAll(r.NewStdin(7))
	if err != nil || string(body) != "hello" {
		t.Fatalf("stdin %q %v", body, err)
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("after the request: %v", err)
	}
}

func TestManagementAndLimits(t *testing.T) {
	var in bytes.Buffer
	bw := bufio.NewWriter(&in)
	w := NewWriter(bw)
	w.Record(TypeGetValues, 0, AppendParams(nil, pairs("FCGI_MPXS_CONNS", "", "FCGI_MAX_REQS", "")))
	w.Record(99, 0, nil)
	w.Flush()
	in.Write(request(1, false, pairs("A", "1"), ""))

	var out bytes.Buffer
	ow := bufio.NewWriter(&out)
	r := NewReader(bufio.NewReader(&in))
	if _, err := r.ReadRequest(NewWriter(ow), 4096); err != nil {
		t.Fatal(err)
	}
	rr := NewReader(bufio.NewReader(&out))
	h, c, err := rr.Next()
	if err != nil || h.Type != TypeGetValuesResult {
		t.Fatalf("%v %v", h, err)
	}
	vals, _ := ParseParams(c)
	if v, _ := vals.Get("FCGI_MPXS_CONNS"); v != "0" {
		t.Errorf("FCGI_MPXS_CONNS = %q", v)
	}
	h, c, _ = rr.Next()
	if h.Type != TypeUnknownType || c[0] != 99 {
		t.Errorf("unknown type answer: %v %v", h, c)
	}

	big := request(1, false, pairs("X", strings.Repeat("x", 5000)), "")
	_, err = NewReader(bufio.NewReader(bytes.NewReader(big))).ReadRequest(NewWriter(bufio.NewWriter(io.Discard)), 4096)
	var tl *ParamsTooLarge
	if !errors.As(err, &tl) || tl.Max != 4096 {
		t.Errorf("params over the limit: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	cases := map[string][]byte{
		"bad version":  {2, TypeBeginRequest, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0},
		"short header": {1, TypeBeginRequest, 0},
		"short body":   {1, TypeBeginRequest, 0, 1, 0, 8, 0, 0, 0, 1},
		"bad begin":    {1, TypeBeginRequest, 0, 1, 0, 2, 0, 0, 0, 1},
		"bad pair":     append(request(1, false, nil, "")[:16], 1, TypeParams, 0, 1, 0, 2, 0, 0, 5, 5),
	}
	for name, data := range cases {
		_, err := NewReader(bufio.NewReader(bytes.NewReader(data))).ReadRequest(NewWriter(bufio.NewWriter(io.Discard)), 4096)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWriterSplitsAndPads(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	w := NewWriter(bw)
	w.Stream(TypeStdout, 3, bytes.Repeat([]byte("z"), MaxContent+10))
	w.EndRequest(3, 0, StatusRequestComplete)
	w.Flush()
	r := NewReader(bufio.NewReader(&out))
	var got int
	for {
		h, c, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if (int(h.Length)+int(h.Padding))%8 != 0 {
			t.Errorf("record of %d+%d bytes is not 8-aligned", h.Length, h.Padding)
		}
		if h.Type == TypeEndRequest {
			break
		}
		got += len(c)
	}
	if got != MaxContent+10 {
		t.Errorf("%d bytes of stdout", got)
	}
}

// FuzzReadRequest feeds arbitrary client bytes to the responder's reader:
// no panics, and accepted params re-encode to what was parsed.
func FuzzReadRequest(f *testing.F) {
	f.Add(request(1, true, pairs("REQUEST_METHOD", "GET", "LONG", strings.Repeat("v", 200)), "body"))
	f.Add([]byte{1, TypeGetValues, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bufio.NewReader(bytes.NewReader(data)))
		req, err := r.ReadRequest(NewWriter(bufio.NewWriter(io.Discard)), 4096)
		if err != nil {
			return
		}
		enc := AppendParams(nil, req.Params)
		back, err := ParseParams(enc)
		if err != nil || len(back) != len(req.Params) {
			t.Fatalf("params did not round-trip: %v", err)
		}
		io.Copy(io.Discard, io.LimitReader(r.NewStdin(req.ID), 1<<20))
	})
}

// pairs builds uwsgi vars from alternating keys and values.
func pairs(kv ...string) uwsgiproto.Vars {
	v := make(uwsgiproto.Vars, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		v = append(v, uwsgiproto.Var{Key: kv[i], Value: kv[i+1]})
	}
	return v
}
