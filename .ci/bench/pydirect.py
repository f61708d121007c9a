"""The benchmark's control experiment, not part of wsgideck: uWSGI's own
design written in Python. A parent binds the uwsgi socket and forks N
workers; each accepts connections itself, parses the uwsgi protocol,
calls the app and writes the response (no master in the request path, as
in uWSGI). Measured behind nginx beside wsgideckd and uWSGI, it shows what
a Python worker that does uWSGI's per-request work costs, which is the
alternative to wsgideck's Go master doing it.

    python3 pydirect.py PORT PROCESSES MODULE   (the app is MODULE:application)

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


def serve(listener, app):
    base = {
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
    }
    accept = listener._accept
    seen = set()
    while True:
        try:
            fd, _ = accept()
        except OSError:
            continue
        conn = socket.socket(fileno=fd)
        try:
            data = conn.recv(65536)
            _, size, _ = HEAD(data)
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
            status, headers = started
            head = "\r\n".join(["HTTP/1.1 " + status, *map(": ".join, headers), "", ""])
            conn.sendall(head.encode("latin-1") + b"".join(result))
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


def main():
    port, processes, module = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    sys.path.insert(0, os.getcwd())
    app = importlib.import_module(module).application
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            serve(listener, app)
        children.append(pid)

    def stop(*_):
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
