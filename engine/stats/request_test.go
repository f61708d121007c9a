package stats

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// chunkReader returns its data in pieces of the given sizes (cycling), then
// err.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
	err   error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = int(r.sizes[r.i%len(r.sizes)])%16 + 1
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func TestReadRequestHead(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		sizes    []byte
		err      error
		head     string
		complete bool
		fails    bool
	}{
		{name: "one read", in: "GET / HTTP/1.0\r\n\r\n", head: "GET / HTTP/1.0\r\n\r\n", complete: true},
		{name: "bytewise", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY", sizes: []byte{0}, head: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", complete: true},
		{name: "blank line across reads", in: "GET / HTTP/1.0\r\n\r\n", sizes: []byte{14, 0, 0, 0}, head: "GET / HTTP/1.0\r\n\r\n", complete: true},
		{name: "bare LF", in: "GET / HTTP/1.0\n\nX", head: "GET / HTTP/1.0\n\n", complete: true},
		{name: "client half-closed early", in: "GET / HT", err: io.EOF, head: "GET / HT"},
		{name: "deadline after a partial head", in: "GET /", err: os.ErrDeadlineExceeded, head: "GET /"},
		{name: "nothing before the deadline", err: os.ErrDeadlineExceeded, fails: true},
		{name: "nothing at all", err: io.EOF, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, maxRequestHead)
			head, complete, err := readRequestHead(&chunkReader{data: []byte(tc.in), sizes: tc.sizes, err: tc.err}, buf)
			if tc.fails {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || string(head) != tc.head || complete != tc.complete {
				t.Fatalf("got %q complete=%v err=%v; want %q complete=%v", head, complete, err, tc.head, tc.complete)
			}
		})
	}

	// A head longer than the buffer stops at the buffer, like uWSGI's one
	// read of 4096 bytes.
	long := bytes.Repeat([]byte("X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"), 200)
	head, complete, err := readRequestHead(&chunkReader{data: long, err: io.EOF}, make([]byte, maxRequestHead))
	if err != nil || complete || len(head) != maxRequestHead {
		t.Fatalf("long head: %d bytes, complete=%v, err=%v", len(head), complete, err)
	}
}

// FuzzRequestHead checks that where the head ends does not depend on how
// the bytes are split into reads, and that a complete head ends with a
// blank line and holds no earlier one.
func FuzzRequestHead(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"), []byte{3, 1, 7})
	f.Add([]byte("GET /stats HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\nbody"), []byte{0})
	f.Add([]byte("\n\n"), []byte{})
	f.Add([]byte("x\r\n\r"), []byte{1})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		whole, wholeDone, err1 := readRequestHead(&chunkReader{data: data, err: io.EOF}, make([]byte, maxRequestHead))
		split, splitDone, err2 := readRequestHead(&chunkReader{data: data, sizes: sizes, err: io.EOF}, make([]byte, maxRequestHead))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("errors differ: %v vs %v", err1, err2)
		}
		if wholeDone != splitDone {
			t.Fatalf("complete: whole read %v, split reads %v", wholeDone, splitDone)
		}
		if !wholeDone {
			return
		}
		if !bytes.Equal(whole, split) {
			t.Fatalf("head: whole read %q, split reads %q", whole, split)
		}
		if !bytes.HasSuffix(whole, []byte("\n\n")) && !bytes.HasSuffix(whole, []byte("\n\r\n")) {
			t.Fatalf("complete head %q does not end with a blank line", whole)
		}
		if end := headEnd(whole[:len(whole)-1]); end >= 0 {
			t.Fatalf("head %q holds an earlier blank line ending at %d", whole, end)
		}
	})
}
