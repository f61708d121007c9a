// Package fastcgi is the responder side of FastCGI 1.0 (the protocol nginx's
// fastcgi_pass speaks), as the engine's fastcgi-socket serves it: records,
// name-value params, the STDIN stream and STDOUT/END_REQUEST replies.
//
// Requests on one connection are served one after another (the engine
// answers FCGI_GET_VALUES with FCGI_MPXS_CONNS=0, and nginx never
// multiplexes). Params come out as uwsgi vars, the same name/value pairs
// uWSGI turns them into.
package fastcgi

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/wsgideck/wsgideck/engine/uwsgiproto"
)

// Record types (FastCGI spec, section 8).
const (
	TypeBeginRequest    = 1
	TypeAbortRequest    = 2
	TypeEndRequest      = 3
	TypeParams          = 4
	TypeStdin           = 5
	TypeStdout          = 6
	TypeStderr          = 7
	TypeData            = 8
	TypeGetValues       = 9
	TypeGetValuesResult = 10
	TypeUnknownType     = 11
)

// Roles and flags of FCGI_BEGIN_REQUEST.
const (
	RoleResponder = 1
	FlagKeepConn  = 1
)

// Protocol statuses of FCGI_END_REQUEST.
const (
	StatusRequestComplete = 0
	StatusCantMultiplex   = 1
	StatusUnknownRole     = 3
)

// HeaderSize is the size of a record header.
const HeaderSize = 8

// MaxContent is the largest record content.
const MaxContent = 65535

// Header is a record header.
type Header struct {
	Version uint8
	Type    uint8
	ID      uint16
	Length  uint16
	Padding uint8
}

// ErrProtocol is wrapped by every malformed-input error.
var ErrProtocol = errors.New("fastcgi: protocol error")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// Reader reads records from a connection.
type Reader struct {
	br      *bufio.Reader
	content []byte
}

// NewReader returns a Reader on br.
func NewReader(br *bufio.Reader) *Reader { return &Reader{br: br} }

// Next reads one whole record. Its content is valid until the next call.
func (r *Reader) Next() (Header, []byte, error) {
	var b [HeaderSize]byte
	if _, err := io.ReadFull(r.br, b[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return Header{}, nil, protoErr("connection closed inside a record header")
		}
		return Header{}, nil, err
	}
	h := Header{Version: b[0], Type: b[1], ID: binary.BigEndian.Uint16(b[2:]), Length: binary.BigEndian.Uint16(b[4:]), Padding: b[6]}
	if h.Version != 1 {
		return h, nil, protoErr("version %d (want 1)", h.Version)
	}
	n := int(h.Length) + int(h.Padding)
	if cap(r.content) < n {
		r.content = make([]byte, n)
	}
	c := r.content[:n]
	if _, err := io.ReadFull(r.br, c); err != nil {
		return h, nil, protoErr("connection closed inside a record")
	}
	return h, c[:h.Length], nil
}

// Request is the start of a request: BEGIN_REQUEST and the PARAMS stream.
type Request struct {
	ID       uint16
	Role     uint16
	KeepConn bool
	Params   uwsgiproto.Vars
	// ParamsSize is the size of the params stream in bytes.
	ParamsSize int
}

// ReadRequest reads records up to the end of a request's params. Management
// records (request id 0) are answered on w as they arrive. maxParams bounds
// the params stream (the engine's buffer-size, as for uwsgi vars).
func (r *Reader) ReadRequest(w *Writer, maxParams int) (*Request, error) {
	var req *Request
	var params []byte
	for {
		h, c, err := r.Next()
		if err != nil {
			if req != nil && err == io.EOF {
				return nil, protoErr("connection closed inside the params")
			}
			return nil, err
		}
		switch {
		case h.ID == 0:
			if err := w.management(h, c); err != nil {
				return nil, err
			}
		case h.Type == TypeBeginRequest:
			if req != nil {
				// A second request while the first is being read: nginx never
				// does this; refuse it as FCGI_MPXS_CONNS=0 says.
				if err := w.EndRequest(h.ID, 0, StatusCantMultiplex); err != nil {
					return nil, err
				}
				continue
			}
			if len(c) != 8 {
				return nil, protoErr("BEGIN_REQUEST body of %d bytes", len(c))
			}
			req = &Request{ID: h.ID, Role: binary.BigEndian.Uint16(c), KeepConn: c[2]&FlagKeepConn != 0}
		case req == nil || h.ID != req.ID:
			// Records for an unknown or finished request are ignored (spec 3.3).
		case h.Type == TypeAbortRequest:
			return nil, protoErr("request %d aborted by the client", h.ID)
		case h.Type == TypeParams:
			if len(c) == 0 {
				vars, err := ParseParams(params)
				if err != nil {
					return nil, err
				}
				req.Params, req.ParamsSize = vars, len(params)
				return req, nil
			}
			if len(params)+len(c) > maxParams {
				return nil, &ParamsTooLarge{Size: len(params) + len(c), Max: maxParams}
			}
			params = append(params, c...)
		default:
			return nil, protoErr("unexpected record type %d before the params ended", h.Type)
		}
	}
}

// ParamsTooLarge reports a params stream over the buffer size.
type ParamsTooLarge struct{ Size, Max int }

func (e *ParamsTooLarge) Error() string {
	return fmt.Sprintf("fastcgi params of at least %d bytes exceed buffer-size %d", e.Size, e.Max)
}

// ParseParams decodes FastCGI name-value pairs (spec 3.4).
func ParseParams(b []byte) (uwsgiproto.Vars, error) {
	var vars uwsgiproto.Vars
	s := string(b)
	for i := 0; i < len(s); {
		kl, n, ok := pairLen(s[i:])
		if !ok {
			return vars, protoErr("truncated name length at offset %d", i)
		}
		i += n
		vl, n, ok := pairLen(s[i:])
		if !ok {
			return vars, protoErr("truncated value length at offset %d", i)
		}
		i += n
		if kl > len(s)-i || vl > len(s)-i-kl {
			return vars, protoErr("name-value pair runs past the params at offset %d", i)
		}
		vars = append(vars, uwsgiproto.Var{Key: s[i : i+kl], Value: s[i+kl : i+kl+vl]})
		i += kl + vl
	}
	return vars, nil
}

func pairLen(s string) (length, size int, ok bool) {
	if len(s) == 0 {
		return 0, 0, false
	}
	if s[0] < 0x80 {
		return int(s[0]), 1, true
	}
	if len(s) < 4 {
		return 0, 0, false
	}
	return int(s[0]&0x7f)<<24 | int(s[1])<<16 | int(s[2])<<8 | int(s[3]), 4, true
}

// AppendParams encodes name-value pairs (used by tests and clients).
func AppendParams(dst []byte, vars uwsgiproto.Vars) []byte {
	for _, v := range vars {
		dst = appendLen(dst, len(v.Key))
		dst = appendLen(dst, len(v.Value))
		dst = append(dst, v.Key...)
		dst = append(dst, v.Value...)
	}
	return dst
}

func appendLen(dst []byte, n int) []byte {
	if n < 0x80 {
		return append(dst, byte(n))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n)|0x80000000)
}

// Stdin reads a request's STDIN stream up to its empty record.
type Stdin struct {
	r    *Reader
	id   uint16
	buf  []byte
	done bool
	err  error
}

// NewStdin returns the STDIN stream of request id.
func (r *Reader) NewStdin(id uint16) *Stdin { return &Stdin{r: r, id: id} }

// Done reports whether the stream's end was read.
func (s *Stdin) Done() bool { return s.done }

func (s *Stdin) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
		h, c, err := s.r.Next()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			s.err = err
			return 0, err
		}
		switch {
		case h.ID != s.id:
			// Management or stray records: ignored.
		case h.Type == TypeAbortRequest:
			s.err = protoErr("request %d aborted by the client", h.ID)
		case h.Type == TypeStdin:
			if len(c) == 0 {
				s.done = true
			}
			s.buf = c
		case h.Type == TypeData:
		default:
			s.err = protoErr("unexpected record type %d in STDIN", h.Type)
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// Writer writes records to a connection.
type Writer struct {
	bw  *bufio.Writer
	hdr [HeaderSize]byte
}

// NewWriter returns a Writer on bw.
func NewWriter(bw *bufio.Writer) *Writer { return &Writer{bw: bw} }

// Record writes one record (content at most MaxContent bytes).
func (w *Writer) Record(typ uint8, id uint16, content []byte) error {
	pad := (8 - len(content)%8) % 8
	w.hdr = [HeaderSize]byte{1, typ, byte(id >> 8), byte(id), byte(len(content) >> 8), byte(len(content)), byte(pad), 0}
	w.bw.Write(w.hdr[:])
	w.bw.Write(content)
	var zeros [8]byte
	_, err := w.bw.Write(zeros[:pad])
	return err
}

// Stream writes p as records of type typ, splitting at MaxContent.
func (w *Writer) Stream(typ uint8, id uint16, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), MaxContent)
		if err := w.Record(typ, id, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// EndRequest ends the STDOUT stream and writes END_REQUEST.
func (w *Writer) EndRequest(id uint16, appStatus uint32, protocolStatus uint8) error {
	if protocolStatus == StatusRequestComplete {
		w.Record(TypeStdout, id, nil)
	}
	var body [8]byte
	binary.BigEndian.PutUint32(body[:], appStatus)
	body[4] = protocolStatus
	return w.Record(TypeEndRequest, id, body[:])
}

// Flush flushes the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// management answers a record with request id 0.
func (w *Writer) management(h Header, c []byte) error {
	if h.Type != TypeGetValues {
		var body [8]byte
		body[0] = h.Type
		if err := w.Record(TypeUnknownType, 0, body[:]); err != nil {
			return err
		}
		return w.Flush()
	}
	asked, err := ParseParams(c)
	if err != nil {
		return err
	}
	var out uwsgiproto.Vars
	for _, v := range asked {
		switch v.Key {
		case "FCGI_MPXS_CONNS":
			out = append(out, uwsgiproto.Var{Key: v.Key, Value: "0"})
		case "FCGI_MAX_CONNS", "FCGI_MAX_REQS":
			out = append(out, uwsgiproto.Var{Key: v.Key, Value: "1000"})
		}
	}
	if err := w.Record(TypeGetValuesResult, 0, AppendParams(nil, out)); err != nil {
		return err
	}
	return w.Flush()
}
