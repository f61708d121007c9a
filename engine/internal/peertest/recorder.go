package peertest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// RecordTimeout bounds one recorded connection, and how long Recorder.Next
// waits for one.
const RecordTimeout = 10 * time.Second

// Recorder is a stand-in upstream for differential tests: a server on
// 127.0.0.1 that keeps every byte each client sends and answers as the
// test's handler says, so that what real nginx sends and what our code sends
// for the same request can be compared byte for byte.
type Recorder[T any] struct {
	Addr string // host:port to point nginx and our client at

	got  chan Recording[T]
	done chan struct{} // closed when the test is over
	mu   sync.Mutex
	open map[net.Conn]bool
	wg   sync.WaitGroup
}

// Recording is one connection as a Recorder saw it.
type Recording[T any] struct {
	Raw   []byte // every byte the client sent, until it closed its side
	Value T      // what the handler made of them
}

// StartRecorder listens on a free port until the test ends. For each
// connection, handle reads the request from in (the connection, recorded as
// it is read), writes its answer to c, and returns what the test wants to
// see of the request; the recorder then closes its side for writing, records
// whatever else the client sends until it closes, and queues the Recording
// for Next. A handler error fails the test and drops the recording. Each
// connection has RecordTimeout; at the end of the test every open connection
// is closed and every handler awaited.
func StartRecorder[T any](t testing.TB, handle func(c net.Conn, in io.Reader) (T, error)) *Recorder[T] {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("peertest: recorder: %v", err)
	}
	rec := &Recorder[T]{Addr: l.Addr().String(), got: make(chan Recording[T], 16), done: make(chan struct{}), open: make(map[net.Conn]bool)}
	t.Cleanup(func() {
		l.Close()
		rec.mu.Lock()
		close(rec.done)
		for c := range rec.open {
			c.Close()
		}
		rec.mu.Unlock()
		rec.wg.Wait()
	})
	rec.wg.Add(1)
	go func() {
		defer rec.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if !rec.track(c) {
				c.Close()
				return
			}
			rec.wg.Add(1)
			go func() {
				defer rec.wg.Done()
				rec.serve(t, c, handle)
			}()
		}
	}()
	return rec
}

// track registers an open connection; it reports false once the test is
// over.
func (rec *Recorder[T]) track(c net.Conn) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.over() {
		return false
	}
	rec.open[c] = true
	return true
}

func (rec *Recorder[T]) serve(t testing.TB, c net.Conn, handle func(net.Conn, io.Reader) (T, error)) {
	defer func() {
		c.Close()
		rec.mu.Lock()
		delete(rec.open, c)
		rec.mu.Unlock()
	}()
	c.SetDeadline(time.Now().Add(RecordTimeout))
	var raw bytes.Buffer
	in := io.TeeReader(c, &raw)
	v, err := handle(c, in)
	if err != nil {
		// After the test, a failure is the teardown closing the
		// connection, not the client's doing.
		if !rec.over() {
			t.Errorf("peertest: recorder: %v", err)
		}
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	// Whatever else the client sends (nothing, if it framed its request
	// right) belongs to the request too.
	io.Copy(io.Discard, in)
	select {
	case rec.got <- Recording[T]{Raw: raw.Bytes(), Value: v}:
	case <-rec.done:
	}
}

// over reports whether the test has ended.
func (rec *Recorder[T]) over() bool {
	select {
	case <-rec.done:
		return true
	default:
		return false
	}
}

// Next returns the next connection's recording, in the order they ended.
// It fails the test if none comes within RecordTimeout.
func (rec *Recorder[T]) Next(t testing.TB) Recording[T] {
	t.Helper()
	select {
	case r := <-rec.got:
		return r
	case <-time.After(RecordTimeout):
		t.Fatal("peertest: the recorder got no request")
		return Recording[T]{}
	}
}
