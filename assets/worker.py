"""wsgideck worker: runs the WSGI app (or apps, with mount) for the Go master.

The master owns every client socket and parses every protocol; this program
only loads the app and answers requests that arrive, one at a time per core,
on private channels (file descriptors 3, 4, ...). The framing is documented in
engine/workerproto (Go); this file is the Python side of it. Keep the
per-request path short: it is the hot path of the whole server.
"""

import io
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback

HDR = struct.Struct("<BI")
REQ = struct.Struct("<IQ")  # environ length, body length
REQ_FRAME = struct.Struct("<BIIQ")  # a REQUEST frame's header and lengths
READ = struct.Struct("<BII")  # a whole READ frame
END = struct.Struct("<BIBIB")  # a whole END frame

T_REQUEST, T_DATA, T_GONE = 0x51, 0x44, 0x58  # 'Q', 'D', 'X'
GONE_FRAME = HDR.pack(T_GONE, 0)
T_READY, T_READ, T_HEADERS, T_BODY, T_END = 0x59, 0x52, 0x48, 0x42, 0x45
T_AUTORELOAD, T_RECYCLE = 0x41, 0x43  # 'A', 'C' (control channel)

OK, ERROR, ABORT, NOAPP = 0, 1, 2, 3
READ_CHUNK = 65536


def end_frame(outcome, switches, app):
    return END.pack(T_END, 6, outcome, switches, app)


END_OK_1 = end_frame(OK, 1, 0)


LOG_DATE = None  # log-date: None (off), "" (ctime) or a strftime format


def log(msg):
    """Writes a line of the worker's own (not the app's) to the log, with
    log-date's prefix when it is on, as uWSGI's uwsgi_log does."""
    if LOG_DATE is not None:
        msg = (time.strftime(LOG_DATE) if LOG_DATE else time.ctime()) + " - " + msg
    sys.stderr.write(msg + "\n")


def print_app_exception():
    """Prints the exception being handled without this program's own frames,
    so the traceback starts in the app, as uWSGI's does (PyErr_Print from
    C). With no frame left (a syntax error, a module not found) it is the
    bare exception, without "Traceback (most recent call last):", as there."""
    etype, value, tb = sys.exc_info()
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    traceback.print_exception(etype, value, tb)


def exception_line(e):
    """The exception in one line, for the master's summary of why the app
    did not load (the log has the whole traceback). A SyntaxError's own
    text names the file and line; its usual form takes four lines."""
    if isinstance(e, SyntaxError):
        return "%s: %s" % (type(e).__name__, e)
    return "".join(traceback.format_exception_only(type(e), e)).strip()


class LoadFailure(Exception):
    """Why an app did not load, already logged the way uWSGI logs it (or,
    where uWSGI logs nothing but "unable to load app", not at all: the
    master names the reason). No traceback follows."""


class ChannelError(Exception):
    """The channel to the master broke or carried an unexpected frame: the
    core stops. Never caught by the request's error handling."""


class ClientGone(OSError):
    """The master said the client went away (a GONE frame): raised by
    write() and by sending the next chunk of the response, as uWSGI raises
    OSError("write error") when its write to the client fails."""

    def __init__(self):
        super().__init__("write error")


class Input:
    """wsgi.input: streams the request body from the master on demand and
    never reads past the body length the master announced."""

    __slots__ = ("_core", "_buf", "_left")

    def __init__(self, core, first, left):
        self._core = core
        self._buf = bytearray(first)
        self._left = left  # bytes the master still holds for us; -1: the client broke off

    def _fill(self, want, op, size):
        if self._left <= 0:
            if self._left == 0:
                return False
        else:
            n = min(max(want, READ_CHUNK), self._left, 0xFFFFFFFF)
            data = self._core.read_body(n)
            if data:
                self._left -= len(data)
                self._buf += data
                return True
            # The client sent less than CONTENT_LENGTH and went away.
            self._left = -1
            self._buf.clear()
        # An error, as on uWSGI (every later read too, and what was read
        # but not returned is gone), so the app does not take a cut-off
        # body for the whole one. uWSGI's message (size 0 for "all").
        raise OSError("error during %s(%d) on wsgi.input" % (op, size if size is not None and size > 0 else 0))

    def read(self, size=-1):
        buf = self._buf
        if size is None or size < 0:
            while self._fill(READ_CHUNK, "read", size):
                pass
            data = bytes(buf)
            buf.clear()
            return data
        while len(buf) < size and self._fill(size - len(buf), "read", size):
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
            if not self._fill(READ_CHUNK, "readline", size):
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
        if hasattr(filelike, "close"):
            self.close = filelike.close
        # A file opened in text mode works on uWSGI, which sends the
        # descriptor's bytes with sendfile(); send its bytes here too, from
        # where the file is (PEP 3333; uWSGI always starts at 0).
        raw = getattr(filelike, "buffer", None)
        if raw is not None and isinstance(filelike, io.TextIOBase):
            try:
                pos = filelike.tell()
                raw.seek(pos)
            except (OSError, ValueError):
                pass
            filelike = raw
        self.filelike = filelike
        self.blksize = blksize

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
        elif self.sent:
            # uWSGI's error (PEP 3333: the headers went, so it is too late).
            raise OSError("headers already sent")
        # A second call without exc_info before anything was sent replaces
        # the first, as on uWSGI (PEP 3333 calls it an error; apps and
        # middleware that do it work on uWSGI, so they work here).
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
        # One join for "status\r\nname: value\r\n...": the head is built on
        # every request, and this is the shortest path through it.
        s = "\r\n".join([self.status, *map(": ".join, headers), ""])
        n = len(headers) + 1
        if s.count("\n") != n or s.count("\r") != n:
            raise ValueError("a response header or the status holds a newline")
        return s.encode("latin-1")

    def send(self, data):
        """Sends headers (the first time) and a body chunk."""
        if not self.sent:
            h = self.head()
            self.sent = True
            self.core.send_checked(HDR.pack(T_HEADERS, len(h)) + h + HDR.pack(T_BODY, len(data)) + data)
        else:
            # A chunk after the first: the client may have gone meanwhile
            # (one non-blocking recv; a generator feeding a client that
            # left would otherwise run to its end).
            if self.core.gone():
                raise ClientGone()
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
        self.core_id = fd - 3  # the master passes core i's channel as fd 3+i
        # Processes the app starts must not hold the channel open.
        os.set_inheritable(fd, False)
        self.sock = socket.socket(fileno=fd)
        self.recv = self.sock.recv
        self.send = self.sock.sendall
        self.pending = b""  # bytes received past the last frame
        self.client_gone = False  # GONE came for the request in progress
        self.worker = worker
        # The core waits for the next request in poll(), not in recv():
        # the master reading a response frees this socket's send buffer,
        # and the kernel wakes a task sleeping in recv() on that too (to
        # find nothing and sleep again); poll() waits for input only.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        self.wait_input = poller.poll

    def read_frame(self):
        """Returns (type, payload), or (None, None) at a clean end of channel.

        The master writes a frame and waits, so one recv() nearly always
        holds exactly one whole frame."""
        d = self.pending
        if not d:
            self.wait_input()
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

    def gone(self):
        """True once the master sent GONE for the request in progress
        (nothing else comes unasked during a response)."""
        if self.client_gone:
            return True
        # A GONE may already be in pending (it came with the DATA a body
        # read asked for); otherwise look without blocking, and without
        # the exception a failing non-blocking recv() costs per chunk.
        if len(self.pending) < 5 and self.wait_input(0):
            try:
                d = self.sock.recv(64, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                d = None
            except OSError as e:
                raise ChannelError(e) from e
            if d is not None:
                if not d:
                    raise ChannelError("channel closed during a response")
                self.pending += d
        if len(self.pending) < 5:
            return False
        if self.pending[:5] != GONE_FRAME:
            raise ChannelError("expected a GONE frame, got %r" % self.pending[:1])
        self.pending = self.pending[5:]
        self.client_gone = True
        return True

    def read_body(self, n):
        self.send_checked(READ.pack(T_READ, 4, n))
        try:
            t, p = self.read_frame()
            if t == T_GONE:
                # The client went during the response; the DATA follows.
                self.client_gone = True
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
        multi = len(w.apps) > 1 or (w.manage_script_name and w.mounts)
        base = w.base_environ
        if w.cfg.get("cores", 1) > 1:
            # uWSGI names the core serving a request when there are
            # threads (wsgi_subhandler.c); per core, so not per request.
            base = dict(base)
            base["uwsgi.core"] = self.core_id
        read_frame = self.read_frame
        recv = self.recv
        wait_input = self.wait_input
        send = self.send
        unpack_req = REQ.unpack_from
        unpack_whole = REQ_FRAME.unpack_from
        while True:
            # The fast path: one recv() returns exactly one whole REQUEST
            # frame (the master writes a request and waits for the
            # answer), parsed here without copying it out first.
            d = self.pending
            if not d:
                wait_input()
                d = recv(READ_CHUNK)
                if not d:
                    return
            if len(d) >= 17:
                t, n, envlen, bodylen = unpack_whole(d)
                whole = t == T_REQUEST and len(d) == 5 + n
            else:
                whole = False
            if whole:
                self.pending = b""
                it = iter(d[17 : 17 + envlen].decode("latin-1").split("\0"))
                first = d[17 + envlen :] if bodylen else b""
            else:
                self.pending = d
                t, p = read_frame()
                if t is None:
                    return
                if t == T_GONE:
                    # Late for the previous request, which ended first.
                    continue
                if t != T_REQUEST:
                    raise ChannelError("expected a REQUEST frame, got %r" % t)
                envlen, bodylen = unpack_req(p)
                it = iter(p[12 : 12 + envlen].decode("latin-1").split("\0"))
                first = p[12 + envlen :] if bodylen else b""
            env = dict(zip(it, it))
            env.update(base)
            if bodylen:
                env["wsgi.input"] = Input(self, first, bodylen - len(first))
            else:
                env["wsgi.input"] = EMPTY_INPUT
            if app is None:
                log("--- no python application found, check your startup logs for errors ---")
                send(end_frame(NOAPP, 0, 255))
                continue
            app_id = 0
            call = app
            if multi:
                app_id, call = w.select(env)
            self.client_gone = False
            r = Response(self)
            result = None
            out = None
            try:
                result = call(env, r.start_response)
                # The common case, `return [b"..."]`: one write for the whole response.
                if result.__class__ is list and len(result) == 1 and not r.sent and type(result[0]) is bytes:
                    body = result[0]
                    hb = r.head()
                    end = END_OK_1 if app_id == 0 else end_frame(OK, 1, app_id)
                    out = b"".join((HDR.pack(T_HEADERS, len(hb)), hb, HDR.pack(T_BODY, len(body)), body, end))
                else:
                    out = self.iterate(r, result, app_id)
            except ChannelError:
                raise
            except BaseException:
                out = self.fail(r, result, app_id)
            send(out)

    def iterate(self, r, result, app_id):
        """Sends a response from any iterable; returns the END frame."""
        if type(result) is bytes:
            # Not an iterable of bytes, but uWSGI sends a bytes object
            # returned as-is as the body (wsgi_subhandler.c), and apps
            # written against it do `return b"..."`.
            result = (result,)
        elif isinstance(result, str):
            raise TypeError("the app returned a str, not an iterable of bytes: encode it and return [body.encode()]")
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
        return end_frame(OK, r.switches, app_id)

    def send_checked(self, data):
        try:
            self.send(data)
        except OSError as e:
            raise ChannelError(e) from e

    def fail(self, r, result, app_id):
        """Logs the app's exception; returns the END frame that reports it."""
        if sys.exc_info()[0] is MemoryError and self.worker.cfg.get("limit_as"):
            # Under limit-as a MemoryError leaves the process in doubt:
            # ask for a fresh one (the master replaces it gracefully).
            self.worker.control(T_RECYCLE, "MemoryError under limit-as (%d MB)" % (self.worker.cfg["limit_as"] >> 20))
        if isinstance(sys.exc_info()[1], ClientGone):
            # uWSGI logs its write error in one line, without a traceback.
            log("OSError: write error (the client went away during the response)")
        else:
            print_app_exception()
        close = getattr(result, "close", None)
        if close is not None:
            try:
                close()
            except ChannelError:
                raise
            except BaseException:
                print_app_exception()
        return end_frame(ABORT if r.sent else ERROR, r.switches, app_id)


class Worker:
    def __init__(self, cfg):
        self.cfg = cfg
        self.app = None  # the default app: the first one loaded (id 0)
        self.apps = []  # [(mountpoint, callable, seconds)]; the index is the app id
        self.by_mount = {}  # mountpoint -> app id
        self.mounts = []  # [(mountpoint, mountpoint without a trailing slash)], longest first, for manage-script-name
        self.manage_script_name = bool(cfg.get("manage_script_name"))
        self.app_error = ""
        self.load_seconds = 0.0
        self.control_fd = cfg.get("control_fd") or 0
        self.control_lock = threading.Lock()
        if self.control_fd:
            os.set_inheritable(self.control_fd, False)
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

    def control(self, typ, text):
        """Sends one frame on the control channel (any thread)."""
        if not self.control_fd:
            return
        data = text.encode("utf-8", "replace")
        with self.control_lock:
            try:
                os.write(self.control_fd, HDR.pack(typ, len(data)) + data)
            except OSError:
                pass

    def autoreloader(self, interval):
        """py-autoreload: checks the mtimes of the imported modules' files
        every interval seconds; the first change asks the master for a
        graceful reload (uWSGI's uwsgi_python_autoreloader thread)."""
        if self.cfg.get("id") == 1:
            # Once, from the first worker, as uWSGI says it.
            log("Python auto-reloader enabled")
        mtimes = {}
        first = True
        while True:
            if not first:
                time.sleep(interval)
            first = False
            for name, mod in list(sys.modules.items()):
                path = getattr(mod, "__file__", None)
                if not path or not isinstance(path, str):
                    continue
                if path.endswith((".pyc", ".pyd", ".pyo")):
                    path = path[:-1]
                try:
                    mtime = os.stat(path).st_mtime
                except OSError:
                    continue
                old = mtimes.setdefault(path, mtime)
                if mtime != old:
                    # The module's __file__ as it is, as uWSGI logs it: the
                    # absolute path of an imported module, the wsgi-file as
                    # written in the config.
                    log("[uwsgi-python-reloader] module/file %s has been modified" % path)
                    self.control(T_AUTORELOAD, path)
                    return

    def load(self):
        """Loads the apps: the default one (module or wsgi-file) as app 0,
        then each mount, in order; ids count the apps that loaded."""
        cfg = self.cfg
        start = time.time()
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
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            traceback.print_exc()
            self.app_error = "cannot prepare the app: %s" % "".join(traceback.format_exception_only(type(e), e)).strip()
        for name in cfg.get("imports") or []:
            # import: before the app, each on its own (uWSGI goes on when
            # one fails).
            try:
                __import__(name)
            except KeyboardInterrupt:
                raise
            except BaseException:
                traceback.print_exc()
                log("unable to import %s" % name)
        specs = []
        module = cfg.get("module") or ""
        wsgi_file = cfg.get("wsgi_file") or ""
        if module or wsgi_file:
            specs.append(("", module, wsgi_file))
        for m in cfg.get("mounts") or []:
            specs.append((m.get("mountpoint") or "", m.get("app") or "", ""))
        if not specs:
            specs.append(("", "", ""))
        if not self.app_error:
            for mountpoint, module, wsgi_file in specs:
                self.load_one(mountpoint, module, wsgi_file)
        self.load_seconds = time.time() - start
        if not self.apps and not cfg.get("need_app"):
            # Under need-app uWSGI says GAME OVER instead (the master
            # does, once this worker has exited).
            log("*** no app loaded. going in full dynamic mode ***")
        # manage-script-name matches a mountpoint without its trailing
        # slash, longest first, the first app winning a tie (core/protocol.c);
        # "/" is then empty and never matches.
        mounts = []
        for i, (mp, _, _) in enumerate(self.apps):
            bare = mp[:-1] if mp.endswith("/") else mp
            if bare:
                mounts.append((mp, bare))
        self.mounts = sorted(mounts, key=lambda m: -len(m[1]))

    def load_one(self, mountpoint, module, wsgi_file):
        cfg = self.cfg
        start = time.time()
        callable_name = cfg.get("callable") or "application"
        what = "nothing"
        try:
            if module and ":" in module:
                module, callable_name = module.split(":", 1)
            if module.endswith(".py") or ("/" in module):
                wsgi_file, module = module, ""
            if module:
                what = "module %r" % module
                # The C import, as uWSGI's PyImport_ImportModule: it drops
                # importlib's own frames from the traceback, which
                # importlib.import_module would show.
                __import__(module)
                mod = sys.modules[module]
            elif wsgi_file:
                what = "wsgi-file %r" % wsgi_file
                mod = load_file(wsgi_file)
            else:
                raise LoadFailure("no app configured: set module (or wsgi) or wsgi-file")
            # "NAME()" is an app factory, as on uWSGI: NAME is called with
            # no arguments and returns the app (module = flaskr:create_app()).
            factory = callable_name.endswith("()")
            name = callable_name[:-2] if factory else callable_name
            app = getattr(mod, name, None)
            if app is None:
                raise LoadFailure("%s has no callable %r (set callable, or module = %s:NAME)" % (what, name, module or "MODULE"))
            if not callable(app):
                raise LoadFailure("%s.%s is a %s, not a callable" % (what, name, type(app).__name__))
            if factory:
                app = app()
                if not callable(app):
                    raise LoadFailure("%s.%s returned a %s, not a WSGI callable" % (what, callable_name, type(app).__name__))
        except KeyboardInterrupt:
            raise
        except LoadFailure as e:
            reason = str(e)
        except BaseException as e:
            print_app_exception()
            reason = exception_line(e)
        else:
            reason = None
        if reason is not None:
            if not self.app_error:
                self.app_error = "cannot load %s (in %s): %s" % (what, os.getcwd(), reason)
            log("unable to load app %d (mountpoint='%s') (callable not found or import error)" % (len(self.apps), mountpoint))
            return
        seconds = time.time() - start
        app_id = len(self.apps)
        self.apps.append((mountpoint, app, seconds))
        self.by_mount.setdefault(mountpoint, app_id)
        if self.app is None:
            self.app = app
        log(
            "WSGI app %d (mountpoint='%s') ready in %d seconds on interpreter %#x pid: %d%s"
            % (app_id, mountpoint, int(seconds), id(sys.modules["__main__"]), os.getpid(), " (default app)" if app_id == 0 else "")
        )

    def select(self, env):
        """Picks the app for a request, as uWSGI does: with
        manage-script-name the longest mountpoint that starts PATH_INFO
        moves there into SCRIPT_NAME; then SCRIPT_NAME names the app, and
        the default app takes the rest. Returns (app id, callable)."""
        if self.manage_script_name and self.mounts:
            path = env.get("PATH_INFO", "")
            for mp, bare in self.mounts:
                # Only whole path segments: /blog does not take /blogx.
                n = len(bare)
                if path.startswith(bare) and (len(path) == n or path[n] == "/"):
                    env["SCRIPT_NAME"] = mp
                    # uWSGI cuts the whole mountpoint: /shop/ leaves "env"
                    # of /shop/env (and reads past the end of /shop).
                    env["PATH_INFO"] = path[len(mp):]
                    break
        app_id = self.by_mount.get(env.get("SCRIPT_NAME", ""), 0)
        return app_id, self.apps[app_id][1]


def load_file(path):
    """wsgi-file: runs the file as module uwsgi_file_<mangled path>, the
    way uWSGI's uwsgi_pyimport_by_filename does: compiled under the path as
    written (so __file__, tracebacks and the autoreloader's log line name
    it so, not by its absolute path), then executed with no importlib
    frames between this program and the file's own."""
    import importlib.util

    base = path[:-3] if path.endswith(".py") else path
    name = "uwsgi_file_" + "".join(c if c.isalnum() else "_" for c in base)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        log("failed to open python file %s" % path)
        raise LoadFailure("cannot open %s: %s" % (path, e.strerror or e)) from e
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except Exception as e:
        print_app_exception()
        log("failed to compile %s" % path)
        raise LoadFailure(exception_line(e)) from e
    # What PyImport_ExecCodeModule sets up: a spec whose origin is the
    # absolute path, __file__ as written, no __cached__.
    mod = type(sys)(name)
    mod.__spec__ = importlib.util.spec_from_file_location(name, path)
    mod.__loader__ = mod.__spec__.loader if mod.__spec__ else None
    mod.__file__ = path
    mod.__cached__ = None
    sys.modules[name] = mod
    try:
        exec(code, mod.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    # The module may have replaced itself in sys.modules, as an import allows.
    return sys.modules.get(name, mod)


def limit_address_space(limit):
    """limit-as: RLIMIT_AS before the app loads, as uWSGI sets it."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError) as e:
        log("wsgideck worker: cannot set limit-as to %d bytes: %s" % (limit, e))


def batch_scheduling():
    """SCHED_BATCH (Linux): a worker woken by a request does not preempt
    the master, which goes on with the requests and responses it is
    handling and runs the worker when it next waits. Without it, each
    request the master hands over costs it an extra context switch.
    Fairness between processes is unchanged. Threads started later
    (cores, the app's own) inherit it."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass


def main():
    global LOG_DATE
    cfg = json.loads(os.environ.pop("WSGIDECK_WORKER"))
    if cfg.get("log_date"):
        LOG_DATE = cfg.get("log_date_format") or ""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    batch_scheduling()
    worker = Worker(cfg)
    cores = [Core(3 + i, worker) for i in range(cfg["cores"])]
    if cfg.get("pyargv"):
        sys.argv = ["uwsgi"] + cfg["pyargv"].split()
    if cfg.get("limit_as"):
        limit_address_space(cfg["limit_as"])
    worker.load()
    if cfg.get("py_autoreload") and worker.control_fd:
        threading.Thread(target=worker.autoreloader, args=(cfg["py_autoreload"],), daemon=True).start()
    info = {
        "pid": os.getpid(),
        "app": 0 if worker.app is not None else -1,
        "seconds": worker.load_seconds,
        "apps": [{"id": i, "mountpoint": mp, "seconds": sec} for i, (mp, _, sec) in enumerate(worker.apps)],
    }
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
