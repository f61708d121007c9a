package stats

import (
	"bytes"
	"io"
)

// maxRequestHead is how much of a stats-http request uWSGI reads (one
// 4096-byte read in uwsgi_send_http_stats).
const maxRequestHead = 4096

// readRequestHead reads an HTTP request head from r into buf (whose length
// bounds it) until the blank line that ends it. It returns what it read and
// whether that includes the end of the head. Reading stops early at EOF, an
// error (such as the connection deadline) or a full buf; the error is
// returned only when nothing was read.
//
// The request itself is not interpreted: like uWSGI, the stats server
// answers any request with the document.
func readRequestHead(r io.Reader, buf []byte) (head []byte, complete bool, err error) {
	n := 0
	for n < len(buf) {
		m, rerr := r.Read(buf[n:])
		// The blank line may straddle reads: look again from just before
		// the new bytes.
		from := max(n-3, 0)
		n += m
		if end := headEnd(buf[from:n]); end >= 0 {
			return buf[:from+end], true, nil
		}
		if rerr != nil {
			if n > 0 {
				return buf[:n], false, nil
			}
			return nil, false, rerr
		}
	}
	return buf[:n], false, nil
}

// headEnd returns the length of the request head at the start of b, up to
// and including its blank line ("\r\n\r\n", or "\n\n" from clients that end
// lines with a bare LF), or -1 if b does not hold one.
func headEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j
		// b[i] is '\n': a blank line follows if the next line is empty.
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}
