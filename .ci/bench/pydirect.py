"""The benchmark's control experiment, not part of wsgideck: uWSGI's own
design written in Python. A parent binds the uwsgi socket and forks N
workers; each accepts connections itself, parses the uwsgi protocol,
calls the app and writes the response (no master in the request path, as
in uWSGI). Measured behind nginx beside wsgideckd and uWSGI, it shows what
a Python worker that does uWSGI's per-request work costs, which is the
alternative to wsgideck's Go master doing it.

    python3 pydirect.py PORT PROCESSES MODULE [accounting]
                                      (the app is MODULE:application)

With "accounting", each worker also does the least bookkeeping a master
that no longer sees the requests would need from it: a scoreboard slot in
shared memory (the request's start time, for harakiri and the stats'
busy cores), and a record of each finished request (times, status, sizes
and the vars block, for the request log, counters, events and traces)
sent to the parent through a pipe, batched by 16 and flushed when the
worker has waited 5 ms with records pending. A worker waits in epoll, with
the listener added EPOLLEXCLUSIVE, beside a pipe from the parent: that is
how a master would tell a worker that blocks in accept() no longer to
take requests (a graceful reload). The parent reads the records in
batches, as the master would. This is the design's best case: the
master's formatting of log lines and its counters are not included.

The per-request path is kept as short as Python allows: one recv for the
packet, the vars parsed in place, one sendall, close. It supports only what
the benchmark sends: requests without a body. A failed connection is
logged (once per kind of error) and the worker goes on.
"""

import importlib
import os
import signal
import socket
import struct
import sys

HEAD = struct.Struct("<BHB").unpack_from
U16 = struct.Struct("<H").unpack_from


REC = struct.Struct("<IBBBBqqqIHHIH2x")  # a request record's fixed part


def serve(listener, app, accounting=None):
    base = {
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
    }
    seen = set()
    if accounting is not None:
        return serve_accounted(listener, app, base, accounting, seen)
    accept = listener._accept
    while True:
        try:
            fd, _ = accept()
        except OSError:
            continue
        answer(socket.socket(fileno=fd), app, base, seen)


def answer(conn, app, base, seen):
    """Serves one connection: one recv for the packet, the vars parsed in
    place, one sendall, close. Returns the vars block, the status and the
    body size (0, 0 after an error)."""
    block, status, sent = b"", 0, 0
    try:
        data = conn.recv(65536)
        _, size, _ = HEAD(data)
        block = data[4 : 4 + size]
        env = {}
        pos, end = 4, 4 + size
        while pos < end:
            n = U16(data, pos)[0]
            key = data[pos + 2 : pos + 2 + n].decode("latin-1")
            pos += 2 + n
            n = U16(data, pos)[0]
            env[key] = data[pos + 2 : pos + 2 + n].decode("latin-1")
            pos += 2 + n
        env.update(base)
        started = []

        def start_response(status, headers, exc_info=None):
            started[:] = [status, headers]

        result = app(env, start_response)
        st, headers = started
        head = "\r\n".join(["HTTP/1.1 " + st, *map(": ".join, headers), "", ""]).encode("latin-1")
        body = b"".join(result)
        conn.sendall(head + body)
        status, sent = int(st[:3]), len(body)
    except Exception as e:
        # A worker must outlive a bad connection (a peer that reset it,
        # say), or the measurement would lose a process; say so, once
        # per kind, so that a failing control is visible in its log.
        kind = type(e).__name__
        if kind not in seen:
            seen.add(kind)
            sys.stderr.write("pydirect worker %d: %s: %s\n" % (os.getpid(), kind, e))
    finally:
        conn.close()
    return block, status, sent


def serve_accounted(listener, app, base, accounting, seen):
    import mmap
    import select
    import time

    records_fd, control_fd = accounting
    board = mmap.mmap(-1, 64)
    since = struct.Struct("Q").pack_into  # native: one aligned 8-byte store
    listener.setblocking(False)
    ep = select.epoll()
    ep.register(listener.fileno(), select.EPOLLIN | select.EPOLLEXCLUSIVE)
    ep.register(control_fd, select.EPOLLIN)
    poll = ep.poll
    accept = listener._accept
    now = time.time_ns
    pack = REC.pack
    pending = []
    while True:
        events = poll(0.005 if pending else -1)
        if not events:
            os.write(records_fd, b"".join(pending))
            pending.clear()
            continue
        if events[0][0] == control_fd and len(events) == 1:
            return
        try:
            fd, _ = accept()
        except OSError:
            continue
        t0 = now()
        since(board, 0, t0)
        block, status, sent = answer(socket.socket(fileno=fd), app, base, seen)
        t1 = now()
        since(board, 0, 0)
        pending.append(pack(REC.size + len(block), 0x52, 0, 0, 0, t0, t1 - t0, sent, 1, status, 2, 0, 0) + block)
        if len(pending) >= 16:
            os.write(records_fd, b"".join(pending))
            pending.clear()


def drain_records(fd):
    """The parent's side of accounting: reads the records in batches (a
    pause after a large read lets the next one gather many)."""
    import time

    while True:
        d = os.read(fd, 1 << 16)
        if not d:
            return
        if len(d) > 4096:
            time.sleep(0.005)


def main():
    port, processes, module = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    accounting = sys.argv[4:5] == ["accounting"]
    sys.path.insert(0, os.getcwd())
    app = importlib.import_module(module).application
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    children = []
    records_r = records_w = control_r = None
    if accounting:
        records_r, records_w = os.pipe()
        control_r, _control_w = os.pipe()  # kept open: it never becomes readable
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            serve(listener, app, (records_w, control_r) if accounting else None)
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if accounting:
        os.close(records_w)
        drain_records(records_r)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
