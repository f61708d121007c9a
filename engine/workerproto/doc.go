// Package workerproto is the framing between the Go master and the cores of
// its Python worker processes (assets/worker.py speaks the other side).
//
// # Channels
//
// Every core (one thread of one worker process) has a private channel: one
// end of a unix stream socketpair, passed to the worker as an inherited file
// descriptor (core i of a worker uses fd 3+i). A channel carries one request
// at a time, strictly in turn, so neither side multiplexes: the master writes
// a request, then answers the worker's frames until the worker sends END.
// Closing the channel from the master side tells the core to finish: the
// worker process exits once all of its cores have seen EOF.
//
// The worker reads its configuration (app to load, worker id, number of
// cores, ...) as JSON from the environment variable named by ConfigEnv.
//
// Each worker also has one control channel, the write end of a pipe at fd
// 3+cores (WorkerConfig.ControlFD), for what the worker tells the master
// unasked, at any time and from any thread (whole frames, one write each):
//
//	'A' AUTORELOAD  the path of a module file that changed (py-autoreload):
//	                the worker asks for a graceful reload of every worker.
//	'C' RECYCLE     a reason in text: the worker asks to be replaced (it
//	                hit MemoryError under limit-as).
//
// # Frames
//
// Every frame is a 5-byte header, type (1 byte) and payload length (u32
// little endian), followed by the payload:
//
//	+------+----------------+=================+
//	| type | length (u32le) | payload ...     |
//	+------+----------------+=================+
//
// Master to worker:
//
//	'Q' REQUEST  u32le envLen, u64le bodyLen (the whole request body), the
//	             environ (envLen bytes), then the first chunk of the body
//	             (the rest of the payload, maybe empty, at most bodyLen).
//	             The environ is key\0value\0key\0value... with no trailing
//	             NUL; bytes are Latin-1, so Python decodes it with
//	             dict(zip(it, it)) over payload.decode('latin-1').split('\0').
//	             Later pairs with the same key win, like uWSGI's environ.
//	'D' DATA     an answer to READ: 1..n bytes of request body, or an empty
//	             payload for end of body (the client sent less than
//	             announced; wsgi.input raises OSError then, as uWSGI's).
//	             The master never sends more than bodyLen bytes in total,
//	             so wsgi.input cannot read past CONTENT_LENGTH.
//	'X' GONE     no payload: the client went away during the response (a
//	             write to it failed). The worker stops the response as
//	             uWSGI does: write() raises OSError, the iterable is not
//	             advanced again and its close() is called; it ends the
//	             request with END as usual. Sent at most once per request,
//	             unasked, so it may also arrive after the worker sent END:
//	             the worker then skips it before the next REQUEST, and it
//	             may come before the DATA that answers a READ.
//
// Worker to master:
//
//	'Y' READY    JSON (see Ready), once per core after the app was loaded
//	             (or failed to load).
//	'R' READ     u32le n: the app wants up to n more body bytes; the master
//	             answers with exactly one DATA frame.
//	'H' HEADERS  the status line and headers as text: "200 OK\r\n" then
//	             "Name: value\r\n" per header, Latin-1. Sent once, before
//	             the first BODY (PEP 3333: when the first non-empty chunk is
//	             produced or the iterable is exhausted).
//	'B' BODY     a chunk of the response body.
//	'E' END      u8 outcome, u32le switches (how many times the response
//	             iterable was advanced), u8 app id (0, or 255 for none). Ends
//	             the request; the core is idle again.
//
// For the common `return [b"..."]` case the worker sends HEADERS, BODY and
// END in one write, so a request costs one write each way.
//
// Outcomes: OutcomeOK; OutcomeError (the app raised before sending headers:
// the master answers 500, the traceback is already in the log);
// OutcomeAbort (the app raised after headers were sent: the master cuts the
// client connection); OutcomeNoApp (no app loaded: the master answers 500
// and logs uWSGI's "no python application found" line).
package workerproto
