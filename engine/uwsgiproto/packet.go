package uwsgiproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderSize is the size of the fixed uwsgi packet header.
const HeaderSize = 4

// MaxVarsSize is the largest vars block the 16-bit datasize can describe.
const MaxVarsSize = 65535

// DefaultBufferSize is uWSGI's default buffer-size: the largest vars block a
// server accepts unless configured otherwise.
const DefaultBufferSize = 4096

// httpLikeSize is what datasize reads as when the first bytes are "GET " or
// "POST"-like ASCII: uWSGI's docs single out 21573 ("GET ") as the sign that
// plain HTTP was sent to a uwsgi socket.
const httpLikeSize = 21573

// Header is the 4-byte packet header.
type Header struct {
	Modifier1 uint8
	Size      uint16 // size of the vars block only
	Modifier2 uint8
}

// Var is one key/value pair of the vars block. Keys and values are raw bytes
// (nginx sends them as is; WSGI decodes them as Latin-1).
type Var struct {
	Key, Value string
}

// Vars is a vars block in wire order. Duplicate keys are legal; the last one
// wins when the block becomes an environ.
type Vars []Var

// Get returns the last value for key, as uWSGI's environ would hold it.
func (v Vars) Get(key string) (string, bool) {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i].Key == key {
			return v[i].Value, true
		}
	}
	return "", false
}

// Size is the encoded size of the vars block.
func (v Vars) Size() int {
	n := 0
	for _, kv := range v {
		n += 4 + len(kv.Key) + len(kv.Value)
	}
	return n
}

// ErrBlockTooLarge is wrapped by errors for a vars block over the configured
// buffer size.
var ErrBlockTooLarge = errors.New("invalid request block size")

// BlockSizeError reports a vars block larger than the server's buffer-size.
// Its message follows uWSGI's log line; LooksLikeHTTP says whether the bytes
// were most likely an HTTP request line sent to a uwsgi socket.
type BlockSizeError struct {
	Size, Max     int
	LooksLikeHTTP bool
}

func (e *BlockSizeError) Error() string {
	return fmt.Sprintf("invalid request block size: %d (max %d)...skip", e.Size, e.Max)
}

func (e *BlockSizeError) Unwrap() error { return ErrBlockTooLarge }

// Hint explains the likely wiring mistake in plain words, or returns "".
func (e *BlockSizeError) Hint() string {
	if !e.LooksLikeHTTP {
		return "raise buffer-size in uwsgi.ini if the client really sends headers this large"
	}
	return "this looks like plain HTTP sent to a uwsgi-protocol socket: use http-socket (not socket) in uwsgi.ini, " +
		"or uwsgi_pass (not proxy_pass) on the nginx side"
}

// ReadHeader reads and decodes the 4-byte header.
func ReadHeader(r io.Reader) (Header, error) {
	var b [HeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Header{}, err
	}
	return DecodeHeader(b), nil
}

// DecodeHeader decodes a header from its 4 bytes.
func DecodeHeader(b [HeaderSize]byte) Header {
	return Header{Modifier1: b[0], Size: binary.LittleEndian.Uint16(b[1:3]), Modifier2: b[3]}
}

// Encode returns the 4 header bytes.
func (h Header) Encode() [HeaderSize]byte {
	var b [HeaderSize]byte
	b[0] = h.Modifier1
	binary.LittleEndian.PutUint16(b[1:3], h.Size)
	b[3] = h.Modifier2
	return b
}

// looksLikeHTTP reports whether the header bytes are ASCII letters, as the
// start of "GET /", "POST /", "HEAD /" would be.
func (h Header) looksLikeHTTP() bool {
	b := h.Encode()
	for _, c := range b {
		if (c < 'A' || c > 'Z') && c != ' ' {
			return false
		}
	}
	return true
}

// ReadRequest reads a header and its vars block from r, refusing a block over
// maxSize bytes (buffer-size) without reading it. The body, if any, is left
// unread in r.
func ReadRequest(r io.Reader, maxSize int) (Header, Vars, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return h, nil, err
	}
	if maxSize <= 0 {
		maxSize = DefaultBufferSize
	}
	if int(h.Size) > maxSize {
		return h, nil, &BlockSizeError{Size: int(h.Size), Max: maxSize, LooksLikeHTTP: h.looksLikeHTTP() || h.Size == httpLikeSize}
	}
	buf := make([]byte, h.Size)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, fmt.Errorf("uwsgi vars block: %w", err)
	}
	vars, err := ParseVars(buf)
	return h, vars, err
}

// ErrNullKey is uWSGI's "uwsgi key cannot be null" condition.
var ErrNullKey = errors.New("uwsgi key cannot be null")

// ParseVars decodes a vars block. Keys and values are copied out of buf as
// strings (one allocation for the whole block).
func ParseVars(buf []byte) (Vars, error) {
	s := string(buf)
	vars := make(Vars, 0, 32)
	for i := 0; i < len(s); {
		if len(s)-i < 2 {
			return vars, fmt.Errorf("uwsgi vars block: truncated key size at offset %d", i)
		}
		kl := int(s[i]) | int(s[i+1])<<8
		i += 2
		if kl == 0 {
			return vars, ErrNullKey
		}
		if len(s)-i < kl {
			return vars, fmt.Errorf("uwsgi vars block: key of %d bytes at offset %d runs past the block", kl, i)
		}
		key := s[i : i+kl]
		i += kl
		if len(s)-i < 2 {
			return vars, fmt.Errorf("uwsgi vars block: missing value size for %q", key)
		}
		vl := int(s[i]) | int(s[i+1])<<8
		i += 2
		if len(s)-i < vl {
			return vars, fmt.Errorf("uwsgi vars block: value of %d bytes for %q runs past the block", vl, key)
		}
		vars = append(vars, Var{Key: key, Value: s[i : i+vl]})
		i += vl
	}
	return vars, nil
}

// ErrTooBig is returned when a packet cannot be encoded in 16 bits; nginx
// logs "uwsgi request is too big" in the same case.
var ErrTooBig = errors.New("uwsgi request is too big")

// AppendRequest appends a complete header and vars block to dst.
func AppendRequest(dst []byte, modifier1, modifier2 uint8, vars Vars) ([]byte, error) {
	size := vars.Size()
	if size > MaxVarsSize {
		return dst, fmt.Errorf("%w: %d bytes of vars", ErrTooBig, size)
	}
	for _, kv := range vars {
		if len(kv.Key) > 0xffff || len(kv.Value) > 0xffff {
			return dst, fmt.Errorf("%w: var %q", ErrTooBig, kv.Key)
		}
	}
	h := Header{Modifier1: modifier1, Size: uint16(size), Modifier2: modifier2}.Encode()
	dst = append(dst, h[:]...)
	for _, kv := range vars {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(kv.Key)))
		dst = append(dst, kv.Key...)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(kv.Value)))
		dst = append(dst, kv.Value...)
	}
	return dst, nil
}
