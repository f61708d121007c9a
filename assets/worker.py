"""wsgideck worker: runs one WSGI app for the Go master.

The master owns every client socket and parses every protocol; this program
only loads the app and answers requests that arrive, one at a time per core,
on private channels (file descriptors 3, 4, ...). The framing is documented in
engine/workerproto (Go); this file is the Python side of it. Keep the
per-request path short: it is the hot path of the whole server.
"""

import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback

HDR = struct.Struct("<BI")
REQ = struct.Struct("<IQ")  # environ length, body length
READ = struct.Struct("<BII")  # a whole READ frame
END = struct.Struct("<BIBIB")  # a whole END frame

T_REQUEST, T_DATA = 0x51, 0x44  # 'Q', 'D'
T_READY, T_READ, T_HEADERS, T_BODY, T_END = 0x59, 0x52, 0x48, 0x42, 0x45

OK, ERROR, ABORT, NOAPP = 0, 1, 2, 3
READ_CHUNK = 65536


def end_frame(outcome, switches, app):
    return END.pack(T_END, 6, outcome, switches, app)


END_OK_1 = end_frame(OK, 1, 0)


def log(msg):
    sys.stderr.write(msg + "\n")


def print_app_exception():
    """Prints the exception being handled without this program's own frames,
    so the traceback starts in the app, as uWSGI's does."""
    etype, value, tb = sys.exc_info()
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    traceback.print_exception(etype, value, tb)


class ChannelError(Exception):
    """The channel to the master broke or carried an unexpected frame: the
    core stops. Never caught by the request's error handling."""


class Input:
    """wsgi.input: streams the request body from the master on demand and
    never reads past the body length the master announced."""

    __slots__ = ("_core", "_buf", "_left")

    def __init__(self, core, first, left):
        self._core = core
        self._buf = bytearray(first)
        self._left = left  # bytes the master still holds for us

    def _fill(self, want):
        if self._left <= 0:
            return False
        n = min(max(want, READ_CHUNK), self._left, 0xFFFFFFFF)
        data = self._core.read_body(n)
        if not data:
            self._left = 0
            return False
        self._left -= len(data)
        self._buf += data
        return True

    def read(self, size=-1):
        buf = self._buf
        if size is None or size < 0:
            while self._fill(READ_CHUNK):
                pass
            data = bytes(buf)
            buf.clear()
            return data
        while len(buf) < size and self._fill(size - len(buf)):
            pass
        data = bytes(buf[:size])
        del buf[:size]
        return data

    def readline(self, size=-1):
        buf = self._buf
        start = 0
        while True:
            i = buf.find(b"\n", start)
            if i >= 0:
                n = i + 1
                break
            if size is not None and 0 <= size <= len(buf):
                n = size
                break
            start = len(buf)
            if not self._fill(READ_CHUNK):
                n = len(buf)
                break
        if size is not None and 0 <= size < n:
            n = size
        data = bytes(buf[:n])
        del buf[:n]
        return data

    def readlines(self, hint=-1):
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self):
        pass


# Requests without a body share one stateless, always-empty wsgi.input.
EMPTY_INPUT = Input(None, b"", 0)


class FileWrapper:
    """wsgi.file_wrapper (PEP 3333's optional platform-specific file handling)."""

    def __init__(self, filelike, blksize=READ_CHUNK):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


class Response:
    """start_response and write() for one request."""

    __slots__ = ("core", "status", "headers", "sent", "switches")

    def __init__(self, core):
        self.core = core
        self.status = None
        self.headers = None
        self.sent = False
        self.switches = 0

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError("start_response() called again without exc_info")
        if type(status) is not str:
            raise TypeError("status must be a str, not %s" % type(status).__name__)
        if type(headers) is not list:
            raise TypeError("response headers must be a list, not %s" % type(headers).__name__)
        self.status = status
        self.headers = headers
        return self.write

    def head(self):
        if self.status is None:
            raise RuntimeError("the app sent a body before calling start_response()")
        headers = self.headers
        if headers:
            s = self.status + "\r\n" + "\r\n".join(map(": ".join, headers)) + "\r\n"
        else:
            s = self.status + "\r\n"
        if s.count("\n") != len(headers) + 1 or s.count("\r") != len(headers) + 1:
            raise ValueError("a response header or the status holds a newline")
        return s.encode("latin-1")

    def send(self, data):
        """Sends headers (the first time) and a body chunk."""
        if not self.sent:
            h = self.head()
            self.sent = True
            self.core.send_checked(HDR.pack(T_HEADERS, len(h)) + h + HDR.pack(T_BODY, len(data)) + data)
        else:
            self.core.send_checked(HDR.pack(T_BODY, len(data)) + data)

    def write(self, data):
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError("write() takes bytes, not %s" % type(data).__name__)
            data = bytes(data)
        self.send(data)


class Core:
    """One core: a private channel to the master and the loop serving it."""

    def __init__(self, fd, worker):
        # Processes the app starts must not hold the channel open.
        os.set_inheritable(fd, False)
        self.sock = socket.socket(fileno=fd)
        self.recv = self.sock.recv
        self.send = self.sock.sendall
        self.pending = b""  # bytes received past the last frame
        self.worker = worker

    def read_frame(self):
        """Returns (type, payload), or (None, None) at a clean end of channel.

        The master writes a frame and waits, so one recv() nearly always
        holds exactly one whole frame."""
        d = self.pending
        while len(d) < 5:
            chunk = self.recv(READ_CHUNK)
            if not chunk:
                if d:
                    raise ChannelError("channel closed inside a frame header")
                return None, None
            d += chunk
        t, n = HDR.unpack_from(d)
        end = 5 + n
        if len(d) < end:
            buf = bytearray(end)
            buf[: len(d)] = d
            view = memoryview(buf)
            pos = len(d)
            while pos < end:
                k = self.sock.recv_into(view[pos:], end - pos)
                if not k:
                    raise ChannelError("channel closed inside a frame")
                pos += k
            self.pending = b""
            return t, bytes(view[5:])
        self.pending = d[end:]
        return t, d[5:end]

    def read_body(self, n):
        self.send_checked(READ.pack(T_READ, 4, n))
        try:
            t, p = self.read_frame()
        except OSError as e:
            raise ChannelError(e) from e
        if t is None:
            raise ChannelError("channel closed while reading the body")
        if t != T_DATA:
            raise ChannelError("expected a DATA frame, got %r" % t)
        return p

    def ready(self, info):
        j = json.dumps(info).encode()
        self.send(HDR.pack(T_READY, len(j)) + j)

    def serve(self):
        w = self.worker
        app = w.app
        base = w.base_environ
        read_frame = self.read_frame
        send = self.send
        unpack_req = REQ.unpack_from
        while True:
            t, p = read_frame()
            if t is None:
                return
            if t != T_REQUEST:
                raise ChannelError("expected a REQUEST frame, got %r" % t)
            envlen, bodylen = unpack_req(p)
            it = iter(p[12 : 12 + envlen].decode("latin-1").split("\0"))
            env = dict(zip(it, it))
            env.update(base)
            if bodylen:
                first = p[12 + envlen :]
                env["wsgi.input"] = Input(self, first, bodylen - len(first))
            else:
                env["wsgi.input"] = EMPTY_INPUT
            if app is None:
                log("--- no python application found, check your startup logs for errors ---")
                send(end_frame(NOAPP, 0, 255))
                continue
            r = Response(self)
            result = None
            out = None
            try:
                result = app(env, r.start_response)
                # The common case, `return [b"..."]`: one write for the whole response.
                if result.__class__ is list and len(result) == 1 and not r.sent:
                    body = result[0]
                    if type(body) is not bytes:
                        raise TypeError("the app returned %s, not bytes" % type(body).__name__)
                    hb = r.head()
                    out = b"".join((HDR.pack(T_HEADERS, len(hb)), hb, HDR.pack(T_BODY, len(body)), body, END_OK_1))
                else:
                    out = self.iterate(r, result)
            except ChannelError:
                raise
            except BaseException:
                out = self.fail(r, result)
            send(out)

    def iterate(self, r, result):
        """Sends a response from any iterable; returns the END frame."""
        for chunk in result:
            r.switches += 1
            if type(chunk) is not bytes:
                if not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise TypeError("the app yielded %s, not bytes" % type(chunk).__name__)
                chunk = bytes(chunk)
            if chunk:
                r.send(chunk)
        if not r.sent:
            hb = r.head()
            r.sent = True
            self.send_checked(HDR.pack(T_HEADERS, len(hb)) + hb)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return end_frame(OK, r.switches, 0)

    def send_checked(self, data):
        try:
            self.send(data)
        except OSError as e:
            raise ChannelError(e) from e

    def fail(self, r, result):
        """Logs the app's exception; returns the END frame that reports it."""
        print_app_exception()
        close = getattr(result, "close", None)
        if close is not None:
            try:
                close()
            except ChannelError:
                raise
            except BaseException:
                print_app_exception()
        return end_frame(ABORT if r.sent else ERROR, r.switches, 0)


class Worker:
    def __init__(self, cfg):
        self.cfg = cfg
        self.app = None
        self.app_error = ""
        self.load_seconds = 0.0
        cores = cfg["cores"]
        self.base_environ = {
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": cores > 1,
            "wsgi.multiprocess": bool(cfg.get("multiprocess")),
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
            "uwsgi.version": cfg.get("version", "").encode("latin-1"),
            "uwsgi.node": cfg.get("node", "").encode("latin-1"),
        }

    def load(self):
        cfg = self.cfg
        start = time.time()
        module = cfg.get("module") or ""
        wsgi_file = cfg.get("wsgi_file") or ""
        callable_name = cfg.get("callable") or "application"
        what = "nothing"
        try:
            if cfg.get("chdir"):
                os.chdir(cfg["chdir"])
            # Like uWSGI: the current directory and each pythonpath entry
            # (globs expanded) come first; this program's own directory goes.
            here = os.path.dirname(os.path.realpath(__file__))
            sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != here]
            paths = ["."]
            import glob

            for p in cfg.get("pythonpath") or []:
                paths.extend(sorted(glob.glob(p)) or [p])
            for p in reversed(paths):
                if p not in sys.path:
                    sys.path.insert(0, p)
            if module and ":" in module:
                module, callable_name = module.split(":", 1)
            if module.endswith(".py") or ("/" in module):
                wsgi_file, module = module, ""
            if module:
                what = "module %r" % module
                import importlib

                mod = importlib.import_module(module)
            elif wsgi_file:
                what = "wsgi-file %r" % wsgi_file
                mod = load_file(wsgi_file)
            else:
                raise LookupError("no app configured: set module (or wsgi) or wsgi-file")
            app = getattr(mod, callable_name, None)
            if app is None:
                raise LookupError("%s has no callable %r (set callable, or module = %s:NAME)" % (what, callable_name, module or "MODULE"))
            if not callable(app):
                raise TypeError("%s.%s is a %s, not a callable" % (what, callable_name, type(app).__name__))
            self.app = app
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            traceback.print_exc()
            reason = "".join(traceback.format_exception_only(type(e), e)).strip()
            where = os.getcwd()
            self.app_error = "cannot load %s (in %s): %s" % (what, where, reason)
            log("unable to load app 0 (mountpoint='') (callable not found or import error)")
            log("*** no app loaded. going in full dynamic mode ***")
        self.load_seconds = time.time() - start
        if self.app is not None:
            log(
                "WSGI app 0 (mountpoint='') ready in %d seconds on interpreter %#x pid: %d (default app)"
                % (int(self.load_seconds), id(sys.modules["__main__"]), os.getpid())
            )


def load_file(path):
    import importlib.util

    base = path[:-3] if path.endswith(".py") else path
    name = "uwsgi_file_" + "".join(c if c.isalnum() else "_" for c in base)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError("cannot load %r as a Python file" % path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def main():
    cfg = json.loads(os.environ.pop("WSGIDECK_WORKER"))
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    worker = Worker(cfg)
    cores = [Core(3 + i, worker) for i in range(cfg["cores"])]
    worker.load()
    info = {"pid": os.getpid(), "app": 0 if worker.app is not None else -1, "seconds": worker.load_seconds}
    if worker.app_error:
        info["error"] = worker.app_error
    for c in cores:
        c.ready(info)
    if worker.app is None and cfg.get("need_app"):
        sys.stderr.flush()
        os._exit(22)

    def run(core):
        try:
            core.serve()
        except (ChannelError, OSError) as e:
            # The master closed or lost the channel: this core is done.
            if not isinstance(e, (BrokenPipeError, ConnectionResetError)) and not isinstance(e.__cause__, (BrokenPipeError, ConnectionResetError)):
                log("wsgideck worker %d: core channel error: %s" % (cfg["id"], e))

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in cores[1:]]
    for t in threads:
        t.start()
    run(cores[0])
    for t in threads:
        t.join()
    try:
        import atexit

        atexit._run_exitfuncs()
    except Exception:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
