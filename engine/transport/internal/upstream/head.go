package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
)

// Head is a parsed response status and header block.
type Head struct {
	StatusCode int
	Status     string // "200 OK", as nginx keeps it for the client
	ProtoMajor int
	ProtoMinor int
	Header     http.Header
	// ContentLength is the upstream's Content-Length, or -1 when it sent
	// none (the body then ends at the end of the response).
	ContentLength int64
}

// Errors reading a response head, in nginx's words. All of them make nginx
// answer 502.
var (
	ErrPrematureClose = errors.New("upstream prematurely closed connection")
	ErrTooBigHeader   = errors.New("upstream sent too big header")
	ErrInvalidHeader  = errors.New("upstream sent invalid header")
)

// invalidHeaderError is a header line nginx refuses. Like nginx 1.22 it
// quotes the line up to the offending byte and shows that byte in hex.
type invalidHeaderError struct {
	prefix string
	bad    byte
}

func (e *invalidHeaderError) Error() string {
	return fmt.Sprintf(`upstream sent invalid header: "%s\x%02x..."`, e.prefix, e.bad)
}

func (e *invalidHeaderError) Is(target error) bool { return target == ErrInvalidHeader }

// invalidStatusError is a Status header that does not start with three
// digits.
type invalidStatusError struct{ value string }

func (e *invalidStatusError) Error() string {
	return fmt.Sprintf(`upstream sent invalid status "%s"`, e.value)
}

func (e *invalidStatusError) Is(target error) bool { return target == ErrInvalidHeader }

// HeadParser reads a response head as nginx 1.22 does: header lines up to
// an empty line (ngx_http_parse_header_line), the status settled CGI style
// from a Status or Location header. A uwsgi app's answer may open with an
// HTTP status line (ngx_http_uwsgi_process_status_line); a FastCGI
// responder's may not, and there a leading "HTTP/1.1 200 OK" is ignored
// like any repeated status line. The parser is fed as bytes arrive, so that
// a malformed line fails as soon as its bad byte is there, as in nginx,
// rather than when the head is complete.
type HeadParser struct {
	h          Head
	statusLine bool   // a status line may come first
	started    bool   // the first line was seen
	gotStatus  bool   // a status line set the status
	pending    []byte // Feed's unfinished last line
	statusHdr  string // the first Status header's value
	hasStatus  bool
	hasLocator bool // a Location header was seen
}

// NewHTTPHeadParser returns a parser for a uwsgi app's answer: an optional
// HTTP status line, then headers. Without a status line the head reads as
// HTTP/1.0.
func NewHTTPHeadParser() *HeadParser {
	return &HeadParser{statusLine: true, h: Head{Header: make(http.Header), ContentLength: -1, ProtoMajor: 1}}
}

// NewCGIHeadParser returns a parser for a CGI response head, a FastCGI
// responder's STDOUT, which nginx answers as HTTP/1.1.
func NewCGIHeadParser() *HeadParser {
	return &HeadParser{h: Head{Header: make(http.Header), ContentLength: -1, ProtoMajor: 1, ProtoMinor: 1}}
}

// Line consumes one line, without its LF. It reports true at the empty line
// that ends the head.
func (p *HeadParser) Line(l []byte) (bool, error) {
	first := !p.started
	p.started = true
	if first && p.statusLine {
		if major, minor, code, text, ok := parseStatusLine(l); ok {
			if code < 100 {
				// nginx would pass it on; net/http cannot send it.
				return false, &invalidStatusError{value: text}
			}
			p.gotStatus = true
			p.h.StatusCode, p.h.Status = code, text
			p.h.ProtoMajor, p.h.ProtoMinor = major, minor
			return false, nil
		}
	}
	name, value, kind, err := parseHeaderLine(l)
	switch {
	case err != nil:
		return false, err
	case kind == endOfHead:
		return true, nil
	case kind == ignoredLine:
		return false, nil
	}
	key := textproto.CanonicalMIMEHeaderKey(string(name))
	p.h.Header[key] = append(p.h.Header[key], string(value))
	switch key {
	case "Status":
		if !p.hasStatus {
			p.hasStatus, p.statusHdr = true, string(value)
		}
	case "Location":
		p.hasLocator = true
	case "Content-Length":
		// nginx 1.22 keeps the last one; a value that is not a number
		// leaves the length unknown, so the body runs to the end.
		p.h.ContentLength = parseContentLength(value)
	}
	return false, nil
}

// Partial checks an unfinished last line for a byte nginx would already
// have refused.
func (p *HeadParser) Partial(l []byte) error {
	if len(l) == 0 {
		return nil
	}
	if !p.started && p.statusLine {
		if _, _, _, _, ok := parseStatusLine(l); ok {
			return nil
		}
	}
	_, _, _, err := parseHeaderLine(l)
	return err
}

// Feed parses the next bytes of the head, which may end anywhere. Once the
// empty line has been seen it reports done, and rest is what follows it:
// the start of the body. Feed keeps the unfinished last line, so data may
// be reused by the caller once Feed returns.
func (p *HeadParser) Feed(data []byte) (rest []byte, done bool, err error) {
	for {
		lf := bytes.IndexByte(data, '\n')
		if lf < 0 {
			p.pending = append(p.pending, data...)
			// A bad byte fails now, not when its line is complete.
			if err := p.Partial(p.pending); err != nil {
				return nil, false, err
			}
			return nil, false, nil
		}
		l := data[:lf]
		if len(p.pending) > 0 {
			l = append(p.pending, l...)
			p.pending = nil
		}
		data = data[lf+1:]
		end, err := p.Line(l)
		if err != nil {
			return nil, false, err
		}
		if end {
			return data, true, nil
		}
	}
}

// Finish settles the status once the head is complete: the status line if
// there was one, else CGI style: the Status header, else 302 for a
// Location, else 200.
func (p *HeadParser) Finish() (*Head, error) {
	switch {
	case p.gotStatus:
	case p.hasStatus:
		v := p.statusHdr
		if len(v) < 3 || !isDigit(v[0]) || !isDigit(v[1]) || !isDigit(v[2]) {
			return nil, &invalidStatusError{value: v}
		}
		code := int(v[0]-'0')*100 + int(v[1]-'0')*10 + int(v[2]-'0')
		if code < 100 {
			// nginx would pass it on; net/http cannot send it.
			return nil, &invalidStatusError{value: v}
		}
		p.h.StatusCode, p.h.Status = code, v
	case p.hasLocator:
		p.h.StatusCode, p.h.Status = http.StatusFound, "302 Moved Temporarily"
	default:
		p.h.StatusCode, p.h.Status = http.StatusOK, "200 OK"
	}
	return &p.h, nil
}

// ReadHead reads a uwsgi app's response head of at most limit bytes from r
// (nginx reads it into one uwsgi_buffer_size buffer). It returns the head
// and the bytes read past it, which begin the body. Its errors are
// ErrPrematureClose, ErrTooBigHeader, one that Is ErrInvalidHeader, or r's
// own.
func ReadHead(r io.Reader, limit int) (*Head, []byte, error) {
	buf := make([]byte, 0, limit)
	p := NewHTTPHeadParser()
	next := 0 // start of the first unparsed line
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		for {
			lf := bytes.IndexByte(buf[next:], '\n')
			if lf < 0 {
				break
			}
			end := next + lf + 1
			done, perr := p.Line(buf[next : end-1])
			next = end
			if perr != nil {
				return nil, nil, perr
			}
			if done {
				h, ferr := p.Finish()
				if ferr != nil {
					return nil, nil, ferr
				}
				return h, buf[next:], nil
			}
		}
		// nginx parses bytes as they come: a bad byte in the unfinished
		// line fails now, not when the line is complete.
		if perr := p.Partial(buf[next:]); perr != nil {
			return nil, nil, perr
		}
		switch {
		case err == io.EOF:
			return nil, nil, ErrPrematureClose
		case err != nil:
			return nil, nil, err
		case len(buf) == cap(buf):
			return nil, nil, ErrTooBigHeader
		}
	}
}
