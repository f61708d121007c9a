"""The wsgideck demo: a plain WSGI app that shows how a request got here.

A browser talks HTTP to nginx; nginx serves /static/ from disk and passes
everything else over the uwsgi protocol to uWSGI; uWSGI's master hands the
connection to one of its worker processes, which calls `application` below.
Every page shows that path for the request you just made: the worker's pid
and id, what nginx passed along, and the WSGI environ the app received.

Standard library only, so it runs with nothing but Python installed.

    /                 the request's path through nginx -> uWSGI -> worker
    /slow?s=N         sleeps N seconds (watch the worker turn busy; past
                      harakiri the worker is killed: wsgideck answers 504,
                      real uWSGI drops the connection and nginx says 502)
    /boom             raises an exception (nginx answers 502 or 500; the
                      traceback is in the uWSGI log)
    /form             a form; POST echoes the fields and uploads back
    /whoami.json      the same facts as /, as JSON
"""

import email.parser
import email.policy
import html
import json
import os
import platform
import sys
import time
from urllib.parse import parse_qs

try:
    import uwsgi  # provided by the server process, not installable
except ImportError:
    uwsgi = None

STARTED = time.time()
SLOW_MAX = 120  # seconds /slow will sleep at most
served = 0  # requests this worker process has answered


def application(environ, start_response):
    global served
    served += 1
    path = environ.get("PATH_INFO", "/") or "/"
    route = ROUTES.get(path.rstrip("/") or "/")
    if route is None:
        return page(start_response, "404 Not Found", "Not found",
                    "<p class=lead>Nothing lives at <code>%s</code>.</p>%s"
                    % (esc(path), TRY_IT), environ)
    return route(environ, start_response)


# ---------------------------------------------------------------- pages

def index(environ, start_response):
    began = time.perf_counter()
    body = flow(environ) + facts(environ) + TRY_IT + tables(environ)
    body += ("<p class=foot>Rendered by worker pid %d in %.2f ms.</p>"
             % (os.getpid(), (time.perf_counter() - began) * 1000))
    return page(start_response, "200 OK", "It works", body, environ)


def slow(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        seconds = float(query.get("s", ["3"])[0])
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= SLOW_MAX:
        return page(start_response, "400 Bad Request", "Bad request",
                    "<p class=lead><code>s</code> must be a number of seconds "
                    "from 0 to %d, e.g. <a href='/slow?s=3'>/slow?s=3</a>.</p>"
                    % SLOW_MAX, environ)
    began = time.perf_counter()
    time.sleep(seconds)
    took = time.perf_counter() - began
    body = ("<p class=lead>Worker %s (pid %d) slept %.1f s and came back.</p>"
            "<p>While it slept it could take no other request: with two "
            "workers, a second slow request keeps both busy, and a third "
            "waits in the listen queue. A request longer than the "
            "<code>harakiri</code> setting in uwsgi.ini gets its worker "
            "killed and respawned: wsgideck answers 504 Gateway Timeout, "
            "while real uWSGI drops the connection and nginx answers "
            "502.</p>%s"
            % (esc(worker_id(environ) or "?"), os.getpid(), took, TRY_IT))
    return page(start_response, "200 OK", "Slow request", body, environ)


def boom(environ, start_response):
    raise RuntimeError(
        "Boom! /boom raised this on purpose (worker pid %d). WSGI servers log "
        "the traceback and answer 500, or close the connection, which nginx "
        "reports as 502 Bad Gateway." % os.getpid())


def form(environ, start_response):
    if environ.get("REQUEST_METHOD") != "POST":
        return page(start_response, "200 OK", "Form", FORM, environ)
    ctype = environ.get("CONTENT_TYPE", "")
    raw = read_body(environ)
    fields, files = parse_form(ctype, raw)
    rows = "".join("<tr><th>%s</th><td><code>%s</code></td></tr>" % (esc(k), esc(v))
                   for k, v in fields)
    rows += "".join("<tr><th>%s</th><td>file <code>%s</code>, %d bytes, %s</td></tr>"
                    % (esc(k), esc(name), size, esc(kind))
                    for k, name, size, kind in files)
    if not rows:
        rows = "<tr><td colspan=2>No fields.</td></tr>"
    body = ("<p class=lead>The worker read a %d-byte %s body from "
            "<code>wsgi.input</code>. nginx buffered it first, and refuses "
            "bodies over <code>client_max_body_size</code> with 413.</p>"
            "<div class=card><h2>Fields received</h2><table>%s</table></div>%s"
            % (len(raw), esc(ctype.split(";")[0] or "(untyped)"), rows, FORM))
    return page(start_response, "200 OK", "Form received", body, environ)


def whoami(environ, start_response):
    data = {
        "pid": os.getpid(),
        "worker_id": worker_id(environ),
        "requests_served_by_this_worker": served,
        "server": server_name(environ),
        "python": platform.python_version(),
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "query": environ.get("QUERY_STRING", ""),
        "host": environ.get("HTTP_HOST"),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "headers": dict(request_headers(environ)),
        "environ_keys": sorted(environ),
    }
    body = json.dumps(data, indent=2, sort_keys=True).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body))),
                              ("Cache-Control", "no-store")])
    return [body]


ROUTES = {"/": index, "/slow": slow, "/boom": boom, "/form": form,
          "/whoami.json": whoami}


# ---------------------------------------------------------------- facts

def worker_id(environ):
    """The server's number for this worker, when it tells us."""
    for key in ("uwsgi.worker_id", "wsgideck.worker_id"):
        if environ.get(key) is not None:
            return str(environ[key])
    if uwsgi is not None:
        try:
            return str(uwsgi.worker_id())
        except Exception:
            pass
    return None


def server_name(environ):
    version = environ.get("uwsgi.version")
    if isinstance(version, bytes):
        version = version.decode("latin-1")
    if version:
        return "uWSGI " + version
    return environ.get("SERVER_SOFTWARE") or "a WSGI server"


def request_headers(environ):
    for key in sorted(environ):
        if key.startswith("HTTP_"):
            yield key[5:].replace("_", "-").title(), environ[key]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            yield key.replace("_", "-").title(), environ[key]


def read_body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def parse_form(ctype, raw):
    """Fields as (name, value) and uploads as (name, filename, size, type)."""
    fields, files = [], []
    if ctype.startswith("application/x-www-form-urlencoded"):
        for k, values in parse_qs(raw.decode("utf-8", "replace"),
                                  keep_blank_values=True).items():
            fields.extend((k, v) for v in values)
    elif ctype.startswith("multipart/form-data"):
        head = ("Content-Type: %s\r\nMIME-Version: 1.0\r\n\r\n" % ctype).encode("latin-1")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        for part in msg.iter_parts() if msg.is_multipart() else ():
            name = part.get_param("name", header="content-disposition") or "?"
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                files.append((name, filename, len(payload), part.get_content_type()))
            else:
                fields.append((name, payload.decode("utf-8", "replace")))
    elif raw:
        fields.append(("(raw body)", raw[:2000].decode("utf-8", "replace")))
    return fields, files


# ---------------------------------------------------------------- html

def esc(value):
    return html.escape(str(value), quote=True)


def hop(title, detail, note, cls=""):
    return ("<div class='hop %s'><div class=hop-title>%s</div>"
            "<div class=hop-detail>%s</div><div class=hop-note>%s</div></div>"
            % (cls, title, detail, note))


def arrow(label):
    return "<div class=arrow><span>%s</span></div>" % label


def flow(environ):
    wid = worker_id(environ)
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "?"
    port = environ.get("SERVER_PORT", "?")
    return (
        "<section class=flow aria-label='request path'>"
        + hop("Browser", esc(environ.get("REMOTE_ADDR", "?")),
              "port %s" % esc(environ.get("REMOTE_PORT", "?")))
        + arrow("HTTP")
        + hop("nginx", "%s:%s" % (esc(host), esc(port)),
              "static files, then <code>uwsgi_pass</code>")
        + arrow("uwsgi protocol")
        + hop("uWSGI master", esc(server_name(environ)),
              "owns the socket, forks and watches the workers")
        + arrow("accept()")
        + hop("Worker %s" % esc(wid) if wid else "Worker", "pid %d" % os.getpid(),
              "request #%d in this process" % served, "hot")
        + arrow("WSGI call")
        + hop("Your app", "<code>wsgi.py</code>", "<code>application(environ, start_response)</code>")
        + "</section>")


def facts(environ):
    uptime = time.time() - STARTED
    items = [
        ("Request", "%s %s" % (environ.get("REQUEST_METHOD", "?"),
                               environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/"))),
        ("Protocol", "%s, %s" % (environ.get("SERVER_PROTOCOL", "?"),
                                 environ.get("wsgi.url_scheme", "?"))),
        ("Worker pid", os.getpid()),
        ("Worker id", worker_id(environ) or "not reported"),
        ("Served by this worker", served),
        ("Worker uptime", "%.0f s" % uptime),
        ("Python", "%s (%s)" % (platform.python_version(), sys.executable or "embedded")),
        ("Processes / threads", "multiprocess=%s, multithread=%s"
         % (environ.get("wsgi.multiprocess"), environ.get("wsgi.multithread"))),
    ]
    cells = "".join("<div class=fact><div class=k>%s</div><div class=v>%s</div></div>"
                    % (esc(k), esc(v)) for k, v in items)
    return ("<p class=lead>This page was made just now by one of uWSGI's worker "
            "processes. Reload it and watch the worker and its request count "
            "change.</p><section class=facts>%s</section>" % cells)


def tables(environ):
    headers = "".join("<tr><th>%s</th><td><code>%s</code></td></tr>" % (esc(k), esc(v))
                      for k, v in request_headers(environ))
    env_rows = "".join("<tr><th>%s</th><td><code>%s</code></td></tr>"
                       % (esc(k), esc(short(environ[k]))) for k in sorted(environ))
    return ("<section class=grid>"
            "<div class=card><h2>Request headers</h2>"
            "<p class=hint>As nginx forwarded them: each became an "
            "<code>HTTP_*</code> variable in the uwsgi packet.</p>"
            "<table>%s</table></div>"
            "<div class=card><h2>WSGI environ <span class=count>%d keys</span></h2>"
            "<p class=hint>CGI variables from nginx's <code>uwsgi_params</code>, "
            "plus the server's <code>wsgi.*</code> and <code>uwsgi.*</code> keys.</p>"
            "<table class=env>%s</table></div>"
            "</section>" % (headers, len(environ), env_rows))


def short(value, limit=160):
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


TRY_IT = """
<section class=try>
  <h2>Try it</h2>
  <a class=btn href="/">Reload <small>another worker may answer</small></a>
  <a class=btn href="/slow?s=3">/slow?s=3 <small>a busy worker</small></a>
  <a class=btn href="/boom">/boom <small>an exception</small></a>
  <a class=btn href="/form">/form <small>a POST body</small></a>
  <a class=btn href="/static/logo.svg">/static/logo.svg <small>served by nginx</small></a>
  <a class=btn href="/whoami.json">/whoami.json <small>as JSON</small></a>
</section>
"""

FORM = """
<form class=card method=post action="/form" enctype="multipart/form-data">
  <h2>Send something</h2>
  <label>Name <input name=name value="Ada"></label>
  <label>Message <textarea name=message rows=3>Hello through nginx and uWSGI!</textarea></label>
  <label>A file (optional) <input type=file name=upload></label>
  <button type=submit>POST it</button>
</form>
"""

PAGE = """<!doctype html>
<html lang=en>
<head>
<meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1">
<title>%(title)s - wsgideck demo</title>
<link rel=icon href="/static/logo.svg" type="image/svg+xml">
<link rel=stylesheet href="/static/style.css">
</head>
<body>
<header>
  <a class=brand href="/"><img src="/static/logo.svg" alt="" width=40 height=40>
  <span>wsgideck <em>demo</em></span></a>
  <span class=badge>%(status)s</span>
</header>
<main>
<h1>%(title)s</h1>
%(body)s
</main>
</body>
</html>
"""


def page(start_response, status, title, body, environ):
    html_doc = PAGE % {"title": esc(title), "status": esc(status), "body": body}
    data = html_doc.encode("utf-8")
    start_response(status, [("Content-Type", "text/html; charset=utf-8"),
                            ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store"),
                            ("X-Worker-Pid", str(os.getpid()))])
    return [data]
