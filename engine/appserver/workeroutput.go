package appserver

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// maxOutputLine is the longest partial line a worker's output keeps before
// passing it on: output that never ends a line cannot grow without bound.
const maxOutputLine = 16 << 10

// outputWaitDelay bounds how long reaping a worker waits for its output
// pipe to close after the process exited: a process the app started in the
// background may hold the pipe open forever (exec.Cmd.WaitDelay).
const outputWaitDelay = 2 * time.Second

// workerOutput is one worker process's stdout and stderr. It is given to
// exec.Cmd as both, so the process gets a pipe of its own, and passes what
// arrives on as whole lines, one Write each: lines from different workers
// and the master's own lines no longer cut into each other, and dst knows
// which worker wrote them.
//
// The destination is known only once the process has started (it may
// depend on the pid), so Write waits for setDst.
type workerOutput struct {
	set chan struct{} // closed by setDst

	mu  sync.Mutex
	dst io.Writer
	buf []byte
}

var _ io.Writer = (*workerOutput)(nil)

func newWorkerOutput() *workerOutput {
	return &workerOutput{set: make(chan struct{})}
}

// setDst sets where the lines go (nil: nowhere) and lets Write proceed.
func (o *workerOutput) setDst(dst io.Writer) {
	if dst == nil {
		dst = io.Discard
	}
	o.dst = dst
	close(o.set)
}

// Write never fails: an error from dst must not stop exec's copying, or
// the worker would block once its pipe is full.
func (o *workerOutput) Write(p []byte) (int, error) {
	<-o.set
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf = append(o.buf, p...)
	start := 0
	for {
		i := bytes.IndexByte(o.buf[start:], '\n')
		if i < 0 {
			if len(o.buf)-start >= maxOutputLine {
				o.dst.Write(o.buf[start : start+maxOutputLine])
				start += maxOutputLine
				continue
			}
			break
		}
		o.dst.Write(o.buf[start : start+i+1])
		start += i + 1
	}
	rest := copy(o.buf, o.buf[start:])
	o.buf = o.buf[:rest]
	if rest == 0 && cap(o.buf) > maxOutputLine {
		o.buf = nil
	}
	return len(p), nil
}

// flush passes on a last line that did not end in a newline (the process
// has exited).
func (o *workerOutput) flush() {
	select {
	case <-o.set:
	default:
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.buf) > 0 {
		o.dst.Write(o.buf)
		o.buf = nil
	}
}
