package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Head is a parsed response status and header block.
type Head struct {
	StatusCode int
	// Status is the status as nginx keeps it for the client: "200 OK", or
	// a Status header's value as it came ("404", "404 Gone").
	Status     string
	ProtoMajor int
	ProtoMinor int
	// Fields are the header lines in the order the upstream sent them,
	// names as sent, repeats included.
	Fields []HeaderField
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
//
// The lines are copied as they come and turned into one string at the end,
// so that every name and value of a head shares one allocation. Reset
// makes a parser ready for the next head, keeping its buffers.
type HeadParser struct {
	h          Head
	statusLine bool   // a status line may come first
	started    bool   // the first line was seen
	gotStatus  bool   // a status line set the status
	pending    []byte // Feed's unfinished last line
	text       []byte // the status and header lines, back to back
	spans      []fieldSpan
	status     [2]int // the status text in text: the status line's or the first Status header's
	hasStatus  bool
	hasLocator bool // a Location header was seen
}

// fieldSpan is one header line's name and value as offsets into text.
type fieldSpan struct{ name, nameEnd, value, valueEnd int }

// NewHTTPHeadParser returns a parser for a uwsgi app's answer: an optional
// HTTP status line, then headers. Without a status line the head reads as
// HTTP/1.0.
func NewHTTPHeadParser() *HeadParser {
	p := &HeadParser{}
	p.Reset(true)
	return p
}

// NewCGIHeadParser returns a parser for a CGI response head, a FastCGI
// responder's STDOUT, which nginx answers as HTTP/1.1.
func NewCGIHeadParser() *HeadParser {
	p := &HeadParser{}
	p.Reset(false)
	return p
}

// Reset prepares the parser for a new head: a uwsgi app's answer
// (statusLine, read as HTTP/1.0 without one) or a CGI head (HTTP/1.1).
func (p *HeadParser) Reset(statusLine bool) {
	*p = HeadParser{
		h:          Head{Fields: p.h.Fields[:0], ContentLength: -1, ProtoMajor: 1},
		statusLine: statusLine,
		pending:    p.pending[:0],
		text:       p.text[:0],
		spans:      p.spans[:0],
	}
	if !statusLine {
		p.h.ProtoMinor = 1
	}
}

// Line consumes one line, without its LF. It reports true at the empty line
// that ends the head.
func (p *HeadParser) Line(l []byte) (bool, error) {
	first := !p.started
	p.started = true
	if first && p.statusLine {
		if major, minor, code, text, end, ok := parseStatusLine(l); ok {
			if code < 100 {
				// nginx would pass it on; net/http cannot send it.
				return false, &invalidStatusError{value: string(l[text:end])}
			}
			base := len(p.text)
			p.text = append(p.text, l[text:end]...)
			p.gotStatus = true
			p.h.StatusCode, p.status = code, [2]int{base, len(p.text)}
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
	base := len(p.text)
	p.text = append(p.text, name...)
	sp := fieldSpan{name: base, nameEnd: len(p.text)}
	p.text = append(p.text, value...)
	sp.value, sp.valueEnd = sp.nameEnd, len(p.text)
	p.spans = append(p.spans, sp)
	switch {
	case equalFold(name, "status"):
		if !p.hasStatus {
			p.hasStatus, p.status = true, [2]int{sp.value, sp.valueEnd}
		}
	case equalFold(name, "location"):
		p.hasLocator = true
	case equalFold(name, "content-length"):
		// nginx 1.22 keeps the last one; a value that is not a number
		// leaves the length unknown, so the body runs to the end.
		p.h.ContentLength = parseContentLength(value)
	}
	return false, nil
}

// equalFold reports whether b is the lower-case ASCII word s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// Partial checks an unfinished last line for a byte nginx would already
// have refused.
func (p *HeadParser) Partial(l []byte) error {
	if len(l) == 0 {
		return nil
	}
	if !p.started && p.statusLine {
		if _, _, _, _, _, ok := parseStatusLine(l); ok {
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
			// Line copies what it keeps: the buffer is free again
			p.pending = l[:0]
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
// Location, else 200. The head is the parser's until its next Reset.
func (p *HeadParser) Finish() (*Head, error) {
	text := string(p.text)
	for _, sp := range p.spans {
		p.h.Fields = append(p.h.Fields, HeaderField{Name: text[sp.name:sp.nameEnd], Value: text[sp.value:sp.valueEnd]})
	}
	switch {
	case p.gotStatus:
		p.h.Status = text[p.status[0]:p.status[1]]
	case p.hasStatus:
		v := text[p.status[0]:p.status[1]]
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
	return ReadHeadInto(r, make([]byte, 0, limit), NewHTTPHeadParser())
}

// ReadHeadInto is ReadHead with the caller's buffer, whose capacity is the
// limit, and parser, reset for a uwsgi answer. The head and the bytes past
// it live in them.
func ReadHeadInto(r io.Reader, buf []byte, p *HeadParser) (*Head, []byte, error) {
	buf = buf[:0]
	p.Reset(true)
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
