package fastcgi

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// Record types (FastCGI 1.0, section 8).
const (
	typeBeginRequest = 1
	typeEndRequest   = 3
	typeParams       = 4
	typeStdin        = 5
	typeStdout       = 6
	typeStderr       = 7
)

const (
	version1      = 1
	roleResponder = 1
	// requestID is the only id nginx uses: one request per connection.
	requestID = 1
	// headerSize is the size of a record header.
	headerSize = 8
	// maxStdinChunk is the largest STDIN record nginx sends.
	maxStdinChunk = 32 << 10
	// maxContent is the largest record content the 16-bit length allows.
	maxContent = 65535
)

// padding returns the bytes that round n up to a multiple of 8, as nginx
// pads every record it sends.
func padding(n int) int {
	return (8 - n%8) % 8
}

// appendRecordHeader appends a record header for content of n bytes
// followed by its padding.
func appendRecordHeader(dst []byte, typ uint8, n int) []byte {
	return append(dst, version1, typ, 0, requestID, byte(n>>8), byte(n), byte(padding(n)), 0)
}

// appendRecord appends a whole record: header, content and padding.
func appendRecord(dst []byte, typ uint8, content []byte) []byte {
	dst = appendRecordHeader(dst, typ, len(content))
	dst = append(dst, content...)
	var zeros [8]byte
	return append(dst, zeros[:padding(len(content))]...)
}

// appendBeginRequest appends BEGIN_REQUEST for the responder role, without
// FCGI_KEEP_CONN: the upstream closes the connection after the request.
func appendBeginRequest(dst []byte) []byte {
	return appendRecord(dst, typeBeginRequest, []byte{0, roleResponder, 0, 0, 0, 0, 0, 0})
}

// appendPair appends one name-value pair: each length in one byte below
// 128, else in four bytes with the top bit set.
func appendPair(dst []byte, name, value string) []byte {
	dst = appendLength(dst, len(name))
	dst = appendLength(dst, len(value))
	dst = append(dst, name...)
	return append(dst, value...)
}

// appendPairBytes is appendPair with the name in bytes.
func appendPairBytes(dst, name []byte, value string) []byte {
	dst = appendLength(dst, len(name))
	dst = appendLength(dst, len(value))
	dst = append(dst, name...)
	return append(dst, value...)
}

func appendLength(dst []byte, n int) []byte {
	if n < 128 {
		return append(dst, byte(n))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n)|1<<31)
}

// record is one record read from the upstream. content is only valid until
// the next call to recordReader.next.
type record struct {
	typ     uint8
	content []byte
	size    int // bytes on the wire: header, content and padding
}

// recordReader reads the records of a response, checking them as
// ngx_http_fastcgi_process_record does: version 1, request id 1, and only
// STDOUT, STDERR and END_REQUEST records.
type recordReader struct {
	r   io.Reader
	buf []byte
}

// reset makes rr read from r, keeping its buffer.
func (rr *recordReader) reset(r io.Reader) {
	rr.r = r
	if rr.buf == nil {
		rr.buf = make([]byte, headerSize+DefaultBufferSize)
	}
}

// next reads one record. It returns io.EOF only at a clean end between
// records, io.ErrUnexpectedEOF inside one.
func (rr *recordReader) next() (record, error) {
	h := rr.buf[:headerSize]
	if _, err := io.ReadFull(rr.r, h); err != nil {
		return record{}, err
	}
	switch {
	case h[0] != version1:
		return record{}, upstream.ProtocolError(fmt.Sprintf("upstream sent unsupported FastCGI protocol version: %d", h[0]))
	case h[1] != typeStdout && h[1] != typeStderr && h[1] != typeEndRequest:
		return record{}, upstream.ProtocolError(fmt.Sprintf("upstream sent invalid FastCGI record type: %d", h[1]))
	case h[2] != 0:
		return record{}, upstream.ProtocolError(fmt.Sprintf("upstream sent unexpected FastCGI request id high byte: %d", h[2]))
	case h[3] != requestID:
		return record{}, upstream.ProtocolError(fmt.Sprintf("upstream sent unexpected FastCGI request id low byte: %d", h[3]))
	}
	typ, n, pad := h[1], int(h[4])<<8|int(h[5]), int(h[6])
	if need := headerSize + n + pad; need > len(rr.buf) {
		rr.buf = make([]byte, need)
	}
	body := rr.buf[headerSize : headerSize+n+pad]
	if _, err := io.ReadFull(rr.r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return record{}, err
	}
	return record{typ: typ, content: body[:n], size: headerSize + n + pad}, nil
}
