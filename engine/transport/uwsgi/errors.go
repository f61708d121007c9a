package uwsgi

import "github.com/wsgideck/wsgideck/engine/transport/internal/upstream"

// Error is a failed exchange with the upstream, with the status nginx
// answers and the words it logs. It is the same type as fastcgi.Error.
type Error = upstream.Error

// Phase is the step of the exchange in which an upstream error happened.
type Phase = upstream.Phase

// The phases, in order.
const (
	Encoding      = upstream.Encoding
	Connecting    = upstream.Connecting
	Sending       = upstream.Sending
	ReadingHeader = upstream.ReadingHeader
	ReadingBody   = upstream.ReadingBody
)

// ErrClientBody is wrapped by errors reading the client's request body: the
// client's fault, not the upstream's (nginx answers 400, 408 or 413 and
// never connects).
var ErrClientBody = upstream.ErrClientBody
