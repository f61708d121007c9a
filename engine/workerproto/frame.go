package workerproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderSize is the size of a frame header: type (1 byte), length (u32le).
const HeaderSize = 5

// Frame types. Master to worker: TypeRequest, TypeData, TypeGone. Worker to master:
// TypeReady, TypeRead, TypeHeaders, TypeBody, TypeEnd on a core channel;
// TypeAutoreload and TypeRecycle on the control channel.
const (
	TypeRequest    = 'Q'
	TypeData       = 'D'
	TypeGone       = 'X'
	TypeReady      = 'Y'
	TypeRead       = 'R'
	TypeHeaders    = 'H'
	TypeBody       = 'B'
	TypeEnd        = 'E'
	TypeAutoreload = 'A'
	TypeRecycle    = 'C'
)

// ConfigEnv is the environment variable that carries the worker's JSON
// configuration (see WorkerConfig).
const ConfigEnv = "WSGIDECK_WORKER"

// FirstCoreFD is the file descriptor of core 0's channel in the worker.
const FirstCoreFD = 3

// MaxControlPayload bounds the frames the master reads whole (READY, READ,
// HEADERS, END). BODY frames are streamed and have no limit.
const MaxControlPayload = 1 << 20

// ErrFrameTooLarge is returned for a control frame over MaxControlPayload.
var ErrFrameTooLarge = errors.New("workerproto: control frame too large")

// Header is a decoded frame header.
type Header struct {
	Type byte
	Len  int
}

func (h Header) String() string {
	return fmt.Sprintf("%q frame of %d bytes", h.Type, h.Len)
}

// AppendHeader appends a frame header to dst.
func AppendHeader(dst []byte, typ byte, n int) []byte {
	return binary.LittleEndian.AppendUint32(append(dst, typ), uint32(n))
}

// GoneFrame is the whole GONE frame (it has no payload).
var GoneFrame = string(AppendHeader(nil, TypeGone, 0))

// AppendFrame appends a complete frame to dst.
func AppendFrame(dst []byte, typ byte, payload []byte) []byte {
	return append(AppendHeader(dst, typ, len(payload)), payload...)
}

// requestPrefix is the fixed start of a REQUEST payload: u32le environ
// length, u64le body length.
const requestPrefix = 12

// AppendRequest appends a REQUEST frame carrying an encoded environ (see
// package environ), the total body length and the first chunk of the body.
func AppendRequest(dst, env []byte, bodyLen int64, first []byte) []byte {
	dst = AppendHeader(dst, TypeRequest, requestPrefix+len(env)+len(first))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(env)))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(bodyLen))
	dst = append(dst, env...)
	return append(dst, first...)
}

// ParseRequest splits a REQUEST payload into environ, body length and first
// body chunk.
func ParseRequest(p []byte) (env []byte, bodyLen int64, first []byte, err error) {
	if len(p) < requestPrefix {
		return nil, 0, nil, fmt.Errorf("workerproto: request payload of %d bytes is too short", len(p))
	}
	n := binary.LittleEndian.Uint32(p)
	bodyLen = int64(binary.LittleEndian.Uint64(p[4:]))
	if uint64(n) > uint64(len(p)-requestPrefix) {
		return nil, 0, nil, fmt.Errorf("workerproto: environ length %d runs past the %d-byte payload", n, len(p))
	}
	first = p[requestPrefix+n:]
	if bodyLen < int64(len(first)) {
		return nil, 0, nil, fmt.Errorf("workerproto: body length %d is less than the %d bytes sent", bodyLen, len(first))
	}
	return p[requestPrefix : requestPrefix+n], bodyLen, first, nil
}

// Reader reads frames from a core's channel. It keeps one reusable buffer for
// control payloads, so a payload is valid until the next call.
type Reader struct {
	br  *bufio.Reader
	buf []byte
}

// NewReader returns a Reader with a read buffer of size bytes.
func NewReader(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, size)}
}

// Next reads the next frame header.
func (r *Reader) Next() (Header, error) {
	b, err := r.br.Peek(HeaderSize)
	if err != nil {
		if err == io.EOF && len(b) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	h := Header{Type: b[0], Len: int(binary.LittleEndian.Uint32(b[1:]))}
	r.br.Discard(HeaderSize)
	return h, nil
}

// Payload reads the whole payload of h into the reusable buffer.
func (r *Reader) Payload(h Header) ([]byte, error) {
	if h.Len > MaxControlPayload {
		return nil, fmt.Errorf("%w: %v", ErrFrameTooLarge, h)
	}
	if cap(r.buf) < h.Len {
		r.buf = make([]byte, h.Len, max(h.Len, 4096))
	}
	p := r.buf[:h.Len]
	if _, err := io.ReadFull(r.br, p); err != nil {
		return nil, unexpected(err)
	}
	return p, nil
}

// CopyPayload streams the payload of h to w. If w fails, the rest of the
// payload is still consumed so the channel stays in step; the write error is
// returned as werr and a channel error as err.
func (r *Reader) CopyPayload(w io.Writer, h Header) (written int64, werr, err error) {
	left := h.Len
	for left > 0 {
		if r.br.Buffered() == 0 {
			if _, perr := r.br.Peek(1); perr != nil {
				return written, werr, unexpected(perr)
			}
		}
		b, _ := r.br.Peek(min(left, r.br.Buffered()))
		if werr == nil {
			n, e := w.Write(b)
			written += int64(n)
			werr = e
		}
		r.br.Discard(len(b))
		left -= len(b)
	}
	return written, werr, nil
}

// Discard skips the payload of h.
func (r *Reader) Discard(h Header) error {
	_, err := r.br.Discard(h.Len)
	return unexpected(err)
}

// Buffered returns the number of bytes that can be read without blocking.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// BufferedBody reports whether the rest of a response (BODY frames and then
// an END with OutcomeOK) is already buffered, and if so the total body size. The master uses it
// to send a Content-Length instead of chunked encoding when the worker wrote
// the whole response at once.
func (r *Reader) BufferedBody() (size int64, complete bool) {
	b, _ := r.br.Peek(r.br.Buffered())
	for len(b) >= HeaderSize {
		n := int(binary.LittleEndian.Uint32(b[1:]))
		switch b[0] {
		case TypeEnd:
			// Only a clean end counts: after an exception the client must
			// see a cut connection, not a complete Content-Length body.
			return size, len(b) >= HeaderSize+EndSize && b[HeaderSize] == byte(OutcomeOK)
		case TypeBody:
			if len(b)-HeaderSize < n {
				return size, false
			}
			size += int64(n)
			b = b[HeaderSize+n:]
		default:
			return size, false
		}
	}
	return size, false
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Outcome is how a request ended, from the END frame.
type Outcome uint8

const (
	OutcomeOK    Outcome = 0 // the response is complete
	OutcomeError Outcome = 1 // the app raised before sending headers
	OutcomeAbort Outcome = 2 // the app raised after headers were sent
	OutcomeNoApp Outcome = 3 // no app is loaded in this worker
)

// End is the payload of an END frame.
type End struct {
	Outcome  Outcome
	Switches uint32
	App      int // app id, -1 for none
}

// EndSize is the payload size of an END frame.
const EndSize = 6

// AppendEnd appends an END frame.
func AppendEnd(dst []byte, e End) []byte {
	dst = AppendHeader(dst, TypeEnd, EndSize)
	dst = append(dst, byte(e.Outcome))
	dst = binary.LittleEndian.AppendUint32(dst, e.Switches)
	app := byte(255)
	if e.App >= 0 && e.App < 255 {
		app = byte(e.App)
	}
	return append(dst, app)
}

// ParseEnd decodes an END payload.
func ParseEnd(p []byte) (End, error) {
	if len(p) != EndSize {
		return End{}, fmt.Errorf("workerproto: END payload of %d bytes, want %d", len(p), EndSize)
	}
	if p[0] > byte(OutcomeNoApp) {
		return End{}, fmt.Errorf("workerproto: unknown outcome %d", p[0])
	}
	e := End{Outcome: Outcome(p[0]), Switches: binary.LittleEndian.Uint32(p[1:]), App: int(p[5])}
	if e.App == 255 {
		e.App = -1
	}
	return e, nil
}

// ParseRead decodes a READ payload: how many bytes the app asks for.
func ParseRead(p []byte) (int, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("workerproto: READ payload of %d bytes, want 4", len(p))
	}
	return int(binary.LittleEndian.Uint32(p)), nil
}
