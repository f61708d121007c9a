package fastcgi

import (
	"errors"
	"io"

	"github.com/wsgideck/wsgideck/engine/transport/internal/upstream"
)

// moreDataThanLength is nginx's warning for STDOUT past the Content-Length.
const moreDataThanLength = `upstream sent more data than specified in "Content-Length" header while reading upstream`

// stderrMessage is nginx's log line for a STDERR record: the content with
// trailing CR, LF, '.' and ' ' trimmed, though never down to nothing.
func stderrMessage(content []byte, phase Phase) string {
	end := len(content)
	for end > 1 {
		c := content[end-1]
		if c != '\n' && c != '\r' && c != '.' && c != ' ' {
			break
		}
		end--
	}
	return `FastCGI sent in stderr: "` + string(content[:end]) + `" while ` + phase.String()
}

// responseBody yields the STDOUT content after the head, up to the
// upstream's Content-Length if it sent one, and keeps reading records until
// the upstream ends the request (an empty STDOUT or END_REQUEST record), as
// nginx does, so that late STDERR records are logged too. Closing it closes
// the connection.
type responseBody struct {
	upstream.BodyEnd
	rr        *recordReader
	pending   []byte
	remaining int64 // STDOUT bytes still expected, or -1 without a length
	discard   bool  // drop STDOUT (a HEAD request)
	logf      Logf
}

func (b *responseBody) Read(p []byte) (int, error) {
	for len(b.pending) == 0 {
		if b.Err != nil {
			return 0, b.Err
		}
		if err := b.nextRecord(); err != nil {
			b.Finish(err)
			return 0, err
		}
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	if b.remaining > 0 {
		b.remaining -= int64(n)
	}
	return n, nil
}

// nextRecord reads one record, leaving STDOUT content in pending. It
// returns io.EOF at the end of the response.
func (b *responseBody) nextRecord() error {
	rec, err := b.rr.next()
	if err != nil {
		return b.readError(err)
	}
	switch rec.typ {
	case typeStderr:
		b.logf(stderrMessage(rec.content, ReadingBody))
	case typeStdout:
		if len(rec.content) == 0 {
			if b.remaining > 0 {
				return b.premature("upstream prematurely closed FastCGI stdout")
			}
			return io.EOF
		}
		if b.discard {
			return nil
		}
		data := rec.content
		if b.remaining >= 0 && int64(len(data)) > b.remaining {
			b.logf(moreDataThanLength)
			data = data[:b.remaining]
		}
		b.pending = data
		if len(data) == 0 {
			// Past the length: nginx stops reading here.
			return io.EOF
		}
	case typeEndRequest:
		if b.remaining > 0 {
			return b.premature("upstream prematurely closed FastCGI request")
		}
		return io.EOF
	}
	return nil
}

func (b *responseBody) premature(reason string) error {
	return upstream.PrematureBodyEnd(b.X.Target.Name(), reason, nil)
}

func (b *responseBody) readError(err error) error {
	var pe upstream.ProtocolError
	switch {
	case errors.As(err, &pe):
		return upstream.PrematureBodyEnd(b.X.Target.Name(), string(pe), err)
	case err == io.EOF && b.remaining <= 0:
		// No end record, but nothing missing either.
		return io.EOF
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return upstream.PrematureBodyEnd(b.X.Target.Name(), upstream.ErrPrematureClose.Error(), io.ErrUnexpectedEOF)
	}
	return b.X.BodyError(err)
}
