package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"syscall"
)

// Phase is the step of the exchange in which an upstream error happened.
// Its String is the "while ..." context nginx appends to the log line.
type Phase int

const (
	// Encoding is building the request: nothing was sent and no connection
	// was opened (nginx's create_request).
	Encoding Phase = iota
	// Connecting is opening the connection.
	Connecting
	// Sending is writing the request and its body.
	Sending
	// ReadingHeader is reading the status line and headers.
	ReadingHeader
	// ReadingBody is reading the response body, after the headers were
	// returned to the caller.
	ReadingBody
)

func (p Phase) String() string {
	switch p {
	case Connecting:
		return "connecting to upstream"
	case Sending:
		return "sending request to upstream"
	case ReadingHeader:
		return "reading response header from upstream"
	case ReadingBody:
		return "reading upstream"
	}
	return "creating request"
}

// Error is a failed exchange with the upstream. It carries what the proxy
// needs to answer and log exactly as nginx does: the status for the client
// and nginx's own wording.
type Error struct {
	// Status is what nginx answers: 502 Bad Gateway for refused, reset or
	// malformed exchanges, 504 Gateway Timeout for timeouts, and 500 for a
	// request that cannot be encoded ("uwsgi request is too big",
	// "fastcgi request record is too big").
	Status int
	// Phase says where it failed. Nothing reached the upstream before
	// Sending, so nginx's next-upstream logic may retry any request then;
	// from Sending on, only idempotent ones, and not after ReadingHeader.
	Phase Phase
	// Reason is nginx's description without the phase, for instance
	// "connect() failed (111: Connection refused)" or
	// "upstream prematurely closed connection".
	Reason string
	// Upstream names the peer as nginx's log does:
	// "uwsgi://127.0.0.1:3031", "fastcgi://unix:/run/app.sock:".
	Upstream string
	// Err is the underlying cause, if there is one.
	Err error
}

// Message is the error-log text nginx writes before its ", client: ..."
// suffix, e.g. "connect() failed (111: Connection refused) while connecting
// to upstream".
func (e *Error) Message() string {
	if e.Phase == Encoding {
		return e.Reason
	}
	return e.Reason + " while " + e.Phase.String()
}

func (e *Error) Error() string {
	if e.Upstream == "" {
		return e.Message()
	}
	return e.Message() + `, upstream: "` + e.Upstream + `"`
}

func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the upstream timed out (nginx's 504).
func (e *Error) Timeout() bool { return e.Status == http.StatusGatewayTimeout }

// timedOut is nginx's fixed wording for every upstream timer: it names
// ETIMEDOUT whatever the timer was.
const timedOut = "upstream timed out (110: Connection timed out)"

// ProtocolError is an answer nginx refuses for breaking the protocol's
// framing; its text is nginx's log message, e.g. "upstream sent
// unsupported FastCGI protocol version: 2". It becomes a 502.
type ProtocolError string

func (e ProtocolError) Error() string { return string(e) }

// IOError turns a socket error into nginx's words: syscall is the call nginx
// would have made ("recv", "writev"), so "recv() failed (104: Connection
// reset by peer)"; a deadline becomes the timeout wording and status.
func IOError(phase Phase, upstream, syscallName string, err error) *Error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &Error{Status: http.StatusGatewayTimeout, Phase: phase, Reason: timedOut, Upstream: upstream, Err: err}
	}
	return &Error{Status: http.StatusBadGateway, Phase: phase, Reason: syscallName + "() failed (" + errnoText(err) + ")", Upstream: upstream, Err: err}
}

// HeadError maps a failure reading the response head to nginx's answer:
// what nginx refuses in the answer itself (the head parser's errors, a
// ProtocolError) is a 502 in its words; anything else is a failed recv().
func HeadError(upstream string, err error) *Error {
	var pe ProtocolError
	switch {
	case errors.As(err, &pe), errors.Is(err, ErrPrematureClose), errors.Is(err, ErrTooBigHeader), errors.Is(err, ErrInvalidHeader):
		return &Error{Status: http.StatusBadGateway, Phase: ReadingHeader, Reason: err.Error(), Upstream: upstream, Err: err}
	}
	return IOError(ReadingHeader, upstream, "recv", err)
}

// BodyError turns a failed read of the response body into what the caller
// gets: the context's error for a cancelled request, else nginx's
// "recv() failed" (or its timeout).
func BodyError(ctx context.Context, upstream string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return IOError(ReadingBody, upstream, "recv", err)
}

// PrematureBodyEnd is the failure of a body cut short by the upstream:
// reason is nginx's words, cause the underlying error or nil.
func PrematureBodyEnd(upstream, reason string, cause error) *Error {
	return &Error{Status: http.StatusBadGateway, Phase: ReadingBody, Reason: reason, Upstream: upstream, Err: cause}
}

// errnoText formats an error the way nginx prints errno: "111: Connection
// refused". Go's texts for errno are glibc's strerror in lower case, so the
// first letter is all that differs.
func errnoText(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	text := errno.Error()
	if text != "" && text[0] >= 'a' && text[0] <= 'z' {
		text = string(text[0]-'a'+'A') + text[1:]
	}
	return fmt.Sprintf("%d: %s", int(errno), text)
}
