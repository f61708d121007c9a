// Package rawsock reads and writes non-blocking sockets with raw system
// calls, waiting through the runtime's poller, as nginx's event loop does.
//
// A raw system call keeps the goroutine's processor: a send on loopback
// runs the receiver's TCP work inline, and handing the processor to
// another thread meanwhile, as an ordinary system call lets the runtime
// do, costs more than the call. [Conn] is the read and write loop over a
// socket's syscall.RawConn; [Dial] opens a socket and starts its connect
// with nothing else (no getsockname, getpeername or setsockopt, no wait
// for the connect: the first write settles it).
//
// Only Linux has them ([Supported]); elsewhere [Conn.Bind] refuses and
// [Dial] returns errors.ErrUnsupported, and callers use the net package.
//
// Deadlines are the caller's, set on the net.Conn or *os.File that owns
// the descriptor; the OnReadWait and OnWriteWait hooks, called when an
// attempt would block and before the wait, are where a caller arms them,
// so that a socket that never has to wait never touches its timers. As
// with the net package, a deadline that has passed fails every call,
// before any system call, until it is moved.
package rawsock
