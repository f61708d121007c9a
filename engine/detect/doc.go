// Package detect finds what a project folder holds: its WSGI app (Flask,
// Django, plain WSGI, Bottle, Falcon, Pyramid), ASGI-only apps that a WSGI
// server cannot run (FastAPI, Starlette, Quart, Litestar, Sanic),
// virtualenvs, and the static folders nginx should serve.
//
// Every finding carries evidence (file:line and the source line), and every
// doubt is a Note: several candidates, an app factory, a module path that
// depends on a missing __init__.py, a setting computed in a way detection
// cannot follow. Detection reports and ranks; it never picks silently.
// Result.Best says whether one app clearly stands out.
//
// Python is read with a small tokenizer written in Go (strings of every
// kind, comments, brackets, continuations, indentation) and pattern rules
// over its statements, rather than by running python3 -c "import ast":
// detection must work before any interpreter is chosen, is fast enough to
// run on every folder the user opens, and never runs the project's code
// (importing a module executes it). The cost is that computed values are
// only followed in the shapes real projects use (BASE_DIR / "static",
// os.path.join(BASE_DIR, ...), os.environ.get(..., default)); anything
// else becomes an Unsure note instead of a guess.
//
// What is recognised:
//
//   - Flask: app = Flask(__name__) (imported as Flask, flask.Flask or under
//     another name), aliases (application = app), middleware
//     (ProxyFix(app)), and factories: a module-level function that builds
//     and returns a Flask app, with its parameters; "app = create_app()"
//     in another module of the project (wsgi.py) is followed through the
//     import. Static files: static_folder/static_url_path, or the default
//     static/ folder beside the app's module.
//   - Django: manage.py -> DJANGO_SETTINGS_MODULE -> the settings module
//     (following "from .base import *" in split settings) ->
//     WSGI_APPLICATION -> the wsgi.py it names; STATIC_URL/STATIC_ROOT and
//     MEDIA_URL/MEDIA_ROOT, with BASE_DIR resolved.
//   - Plain WSGI: a module-level def application(environ, start_response)
//     (or app, or any function with environ/start_response parameters), a
//     class whose __call__ takes them, and Bottle, Falcon and Pyramid apps.
//   - ASGI: FastAPI(), Starlette(), Quart(), Litestar(), Sanic(),
//     falcon.asgi.App() and async def app(scope, receive, send), reported
//     as not servable with what to do instead; a2wsgi's ASGIMiddleware
//     wrapping one makes it a WSGI app.
//   - Virtualenvs: folders with a pyvenv.cfg (or the older activate
//     layout) up to two levels down, their interpreter (and whether its
//     link still resolves), Python version and relevant installed packages.
//
// Tests, docs, examples, migrations and dependency folders are not
// searched.
package detect
