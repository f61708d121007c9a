package detect

import (
	"strings"
)

// This file reads one Python module: its imports, and the module-level
// names bound to apps (instances, factories, plain WSGI functions).

// constructor describes a call that makes an app.
type constructor struct {
	kind      Kind
	framework string
}

// constructors maps fully qualified callables to the app they build.
var constructors = map[string]constructor{
	"flask.Flask":     {KindFlask, "Flask"},
	"flask.app.Flask": {KindFlask, "Flask"},

	"django.core.wsgi.get_wsgi_application": {KindDjango, "Django"},
	"django.core.handlers.wsgi.WSGIHandler": {KindDjango, "Django"},
	"bottle.Bottle":                         {KindWSGI, "Bottle"},
	"bottle.default_app":                    {KindWSGI, "Bottle"},
	"falcon.App":                            {KindWSGI, "Falcon"},
	"falcon.API":                            {KindWSGI, "Falcon"},
	"werkzeug.middleware.dispatcher.DispatcherMiddleware": {KindWSGI, "Werkzeug"},

	"fastapi.FastAPI":                       {KindASGI, "FastAPI"},
	"fastapi.applications.FastAPI":          {KindASGI, "FastAPI"},
	"starlette.applications.Starlette":      {KindASGI, "Starlette"},
	"quart.Quart":                           {KindASGI, "Quart"},
	"litestar.Litestar":                     {KindASGI, "Litestar"},
	"starlite.Starlite":                     {KindASGI, "Starlite"},
	"sanic.Sanic":                           {KindASGI, "Sanic"},
	"falcon.asgi.App":                       {KindASGI, "Falcon (ASGI)"},
	"django.core.asgi.get_asgi_application": {KindASGI, "Django (ASGI)"},
}

// wrappers are WSGI middleware: wrapping an app keeps it an app.
var wrappers = map[string]bool{
	"werkzeug.middleware.proxy_fix.ProxyFix":               true,
	"werkzeug.contrib.fixers.ProxyFix":                     true,
	"werkzeug.debug.DebuggedApplication":                   true,
	"werkzeug.middleware.shared_data.SharedDataMiddleware": true,
	"whitenoise.WhiteNoise":                                true,
	"sentry_sdk.integrations.wsgi.SentryWsgiMiddleware":    true,
}

// a2wsgi turns an ASGI app into a WSGI one.
const asgiToWSGI = "a2wsgi.ASGIMiddleware"

// An appFact is a module-level name bound to an app.
type appFact struct {
	name      string
	kind      Kind
	framework string
	factory   bool
	required  []string // a factory's parameters without defaults
	ev        []Evidence
	origin    string // file:line of the original definition, shared by aliases
	// Flask's static folder: the static_folder and static_url_path
	// arguments, when given as literals.
	staticFolder, staticURL *string
	staticOff               bool      // static_folder=None
	staticEv                *Evidence // where the static arguments were given
	wrapped                 bool      // wrapped in middleware or a2wsgi
	handlerLike             bool      // a def with the WSGI signature but not an entry point's name
}

func (a *appFact) clone(name string) *appFact {
	c := *a
	c.name = name
	c.ev = append([]Evidence(nil), a.ev...)
	return &c
}

// pending is a module-level name bound to something imported, resolved
// once every module has been read.
type pending struct {
	name      string // the local name
	qualified string // what it refers to: "flaskr.create_app", ".app"
	call      bool   // the name is bound to qualified() rather than qualified
	wrapper   string // set when bound to wrapper(qualified)
	ev        Evidence
}

// fileFacts is what one module tells us.
type fileFacts struct {
	path      string // relative, slash-separated
	module    string // dotted module name
	pyPath    string // the sys.path folder the module name is relative to
	pkg       string // the package relative imports start from
	namespace bool   // the module sits in a folder without __init__.py
	badName   string // why module is not importable, if it is not
	stmts     []stmt

	imports  map[string]string // local name -> qualified name
	apps     map[string]*appFact
	order    []string // app names in definition order
	pendings []pending
	classes  map[string]Kind // classes whose __call__ is a WSGI or ASGI entry
}

func (f *fileFacts) addApp(a *appFact) {
	if _, ok := f.apps[a.name]; !ok {
		f.order = append(f.order, a.name)
	}
	f.apps[a.name] = a
}

func (f *fileFacts) ev(s stmt) Evidence {
	return Evidence{File: f.path, Line: s.line, Text: clip(s.src)}
}

func clip(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

type scopeEntry struct {
	indent int
	kind   string // "def", "class" or "block"
	name   string
}

// funcState collects what the body of a module-level def does.
type funcState struct {
	name    string
	head    stmt
	params  []param
	async   bool
	made    *appFact // first app constructor called in the body
	returns bool
}

// analyze reads a module's statements.
func analyze(f *fileFacts) {
	f.imports = map[string]string{}
	f.apps = map[string]*appFact{}
	f.classes = map[string]Kind{}
	var stack []scopeEntry
	var fn *funcState
	var decorators []string
	finish := func() {
		if fn != nil {
			f.finishFunc(fn)
			fn = nil
		}
	}
	for _, s := range f.stmts {
		for len(stack) > 0 && stack[len(stack)-1].indent >= s.indent {
			stack = stack[:len(stack)-1]
		}
		inDef, inClass := "", ""
		for _, e := range stack {
			if e.kind == "def" && inDef == "" {
				inDef = e.name
			}
			if e.kind == "class" && inClass == "" {
				inClass = e.name
			}
		}
		if fn != nil && inDef != fn.name {
			finish()
		}
		f.readImport(s)

		if s.first() == "@" {
			decorators = append(decorators, s.src)
			continue
		}
		decs := decorators
		decorators = nil

		if s.isHeader() {
			kind, name := "block", ""
			toks := s.toks
			async := false
			if toks[0].text == "async" && len(toks) > 1 {
				async = true
				toks = toks[1:]
			}
			switch {
			case toks[0].text == "def" && len(toks) > 1:
				kind, name = "def", toks[1].text
				params := parseParams(toks)
				switch {
				case inDef == "" && inClass == "":
					fn = &funcState{name: name, head: s, params: params, async: async}
					f.plainCallable(s, name, params, async, decs)
				case inDef == "" && name == "__call__" && len(stack) > 0 && stack[len(stack)-1].kind == "class":
					f.callableClass(stack[len(stack)-1].name, params, async)
				}
			case toks[0].text == "class" && len(toks) > 1:
				kind, name = "class", toks[1].text
			}
			stack = append(stack, scopeEntry{indent: s.indent, kind: kind, name: name})
			continue
		}
		switch {
		case inDef == "" && inClass == "":
			f.moduleStatement(s)
		case fn != nil && inDef == fn.name:
			f.bodyStatement(fn, s)
		}
	}
	finish()
}

// readImport records import and from-import statements at any level.
func (f *fileFacts) readImport(s stmt) {
	toks := s.toks
	switch toks[0].text {
	case "import":
		for _, part := range splitTop(toks[1:], ",") {
			name, alias := dotted(part), ""
			if i := indexName(part, "as"); i >= 0 && i+1 < len(part) {
				alias = part[i+1].text
				name = dotted(part[:i])
			}
			if name == "" {
				continue
			}
			if alias != "" {
				f.imports[alias] = name
			} else {
				first, _, _ := strings.Cut(name, ".")
				f.imports[first] = first
			}
		}
	case "from":
		i := indexName(toks, "import")
		if i < 2 {
			return
		}
		mod := ""
		for _, t := range toks[1:i] {
			mod += t.text // dots and names: ".", "..", "pkg", ".", "mod"
		}
		rest := toks[i+1:]
		if len(rest) > 0 && rest[0].text == "(" {
			rest = rest[1:]
			if n := len(rest); n > 0 && rest[n-1].text == ")" {
				rest = rest[:n-1]
			}
		}
		for _, part := range splitTop(rest, ",") {
			if len(part) == 0 || part[0].kind != tName {
				continue
			}
			name, alias := part[0].text, part[0].text
			if len(part) == 3 && part[1].text == "as" {
				alias = part[2].text
			}
			q := mod + "." + name
			if strings.Trim(mod, ".") == "" {
				q = mod + name
			}
			f.imports[alias] = q
		}
	}
}

// qualify resolves a dotted name through the module's imports:
// "Flask" -> "flask.Flask", "fastapi.FastAPI" stays.
func (f *fileFacts) qualify(name string) string {
	first, rest, hasRest := strings.Cut(name, ".")
	q, ok := f.imports[first]
	if !ok {
		return name
	}
	if hasRest {
		return q + "." + rest
	}
	return q
}

// moduleStatement looks at a module-level statement for app bindings.
func (f *fileFacts) moduleStatement(s stmt) {
	targets, rhs := assignment(s.toks)
	if len(targets) == 0 || len(rhs) == 0 {
		return
	}
	bind := func(a *appFact) {
		for _, t := range targets {
			f.addApp(a.clone(t))
		}
	}
	// name = other_name
	if len(rhs) == 1 && rhs[0].kind == tName {
		if a, ok := f.apps[rhs[0].text]; ok {
			a = a.clone("")
			a.ev = append(a.ev, f.ev(s))
			bind(a)
			return
		}
		if q, ok := f.imports[rhs[0].text]; ok {
			for _, t := range targets {
				f.pendings = append(f.pendings, pending{name: t, qualified: q, ev: f.ev(s)})
			}
		}
		return
	}
	callee, args, ok := call(rhs)
	if !ok {
		return
	}
	q := f.qualify(callee)
	if c, ok := constructors[q]; ok {
		a := &appFact{kind: c.kind, framework: c.framework, ev: []Evidence{f.ev(s)}, origin: originOf(f.path, s.line)}
		if c.kind == KindFlask {
			flaskStaticArgs(a, args, f.ev(s))
		}
		bind(a)
		return
	}
	if strings.HasSuffix(q, ".make_wsgi_app") {
		bind(&appFact{kind: KindWSGI, framework: "Pyramid", ev: []Evidence{f.ev(s)}, origin: originOf(f.path, s.line)})
		return
	}
	// A local factory called at import time: app = create_app().
	if a, ok := f.apps[callee]; ok && a.factory {
		inst := a.clone("")
		inst.factory, inst.required = false, nil
		inst.ev = append([]Evidence{f.ev(s)}, a.ev...)
		bind(inst)
		return
	}
	if k, ok := f.classes[callee]; ok {
		bind(&appFact{kind: k, framework: plainName(k), ev: []Evidence{f.ev(s)}, origin: originOf(f.path, s.line)})
		return
	}
	// Middleware around an app: application = ProxyFix(app), or a2wsgi.
	if wrappers[q] || q == asgiToWSGI || (len(targets) == 1 && targets[0] == "application") {
		if first := firstArg(args); first != "" {
			if a, ok := f.apps[first]; ok {
				w := a.clone("")
				w.ev = append(w.ev, f.ev(s))
				w.wrapped = true
				if q == asgiToWSGI && a.kind == KindASGI {
					w.kind, w.framework = KindWSGI, a.framework+" via a2wsgi"
				}
				bind(w)
				return
			}
			if iq, ok := f.imports[first]; ok && (wrappers[q] || q == asgiToWSGI) {
				for _, t := range targets {
					f.pendings = append(f.pendings, pending{name: t, qualified: iq, wrapper: q, ev: f.ev(s)})
				}
				return
			}
		}
	}
	// An imported callable: resolved later (app = create_app()).
	if _, ok := f.imports[strings.SplitN(callee, ".", 2)[0]]; ok && len(args) == 0 {
		for _, t := range targets {
			f.pendings = append(f.pendings, pending{name: t, qualified: q, call: true, ev: f.ev(s)})
		}
	}
}

// bodyStatement looks inside a module-level function for an app being
// built and returned: the factory pattern.
func (f *fileFacts) bodyStatement(fn *funcState, s stmt) {
	if s.first() == "return" {
		fn.returns = true
	}
	if fn.made != nil {
		return
	}
	toks := s.toks
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tName || (i > 0 && toks[i-1].text == ".") {
			continue
		}
		j := i
		name := toks[i].text
		for j+2 < len(toks) && toks[j+1].text == "." && toks[j+2].kind == tName {
			j += 2
			name += "." + toks[j].text
		}
		if j+1 >= len(toks) || toks[j+1].text != "(" {
			i = j
			continue
		}
		c, ok := constructors[f.qualify(name)]
		if !ok {
			i = j
			continue
		}
		a := &appFact{kind: c.kind, framework: c.framework, factory: true, ev: []Evidence{}}
		if c.kind == KindFlask {
			if _, args, ok := call(toks[i:]); ok {
				flaskStaticArgs(a, args, f.ev(s))
			}
		}
		a.ev = append(a.ev, f.ev(s))
		fn.made = a
		return
	}
}

func (f *fileFacts) finishFunc(fn *funcState) {
	if fn.made == nil || !fn.returns || fn.async {
		return
	}
	a := fn.made
	a.name = fn.name
	a.origin = originOf(f.path, fn.head.line)
	a.ev = append([]Evidence{f.ev(fn.head)}, a.ev...)
	for _, p := range fn.params {
		if !p.hasDefault && p.star == 0 && p.name != "" {
			a.required = append(a.required, p.name)
		}
	}
	f.addApp(a)
}

// plainCallable records def application(environ, start_response) and
// async def app(scope, receive, send).
func (f *fileFacts) plainCallable(s stmt, name string, params []param, async bool, decorators []string) {
	req := requiredNames(params)
	for _, d := range decorators {
		// Werkzeug's @Request.application turns f(request) into a WSGI app.
		if strings.HasSuffix(strings.TrimSpace(d), "Request.application") && len(req) == 1 {
			f.addApp(&appFact{name: name, kind: KindWSGI, framework: "Werkzeug", ev: []Evidence{f.ev(s)}, origin: originOf(f.path, s.line)})
			return
		}
	}
	switch {
	case !async && len(req) == 2 && looksWSGI(name, req):
		f.addApp(&appFact{name: name, kind: KindWSGI, framework: "plain WSGI", ev: []Evidence{f.ev(s)}, origin: originOf(f.path, s.line),
			handlerLike: name != "application" && name != "app"})
	case async && len(req) == 3 && req[0] == "scope":
		f.addApp(&appFact{name: name, kind: KindASGI, framework: "plain ASGI", ev: []Evidence{f.ev(s)}, origin: originOf(f.path, s.line)})
	}
}

func (f *fileFacts) callableClass(class string, params []param, async bool) {
	req := requiredNames(params)
	if len(req) > 0 && req[0] == "self" {
		req = req[1:]
	}
	switch {
	case !async && len(req) == 2 && looksWSGI("__call__", req):
		f.classes[class] = KindWSGI
	case async && len(req) == 3 && req[0] == "scope":
		f.classes[class] = KindASGI
	}
}

func looksWSGI(name string, req []string) bool {
	switch name {
	case "application", "app", "wsgi_app", "wsgi_application", "__call__":
		return true
	}
	return (req[0] == "environ" || req[0] == "env") && strings.Contains(req[1], "start")
}

func plainName(k Kind) string {
	if k == KindASGI {
		return "plain ASGI"
	}
	return "plain WSGI"
}

func originOf(file string, line int) string { return file + ":" + itoa(line) }

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

// flaskStaticArgs reads Flask(__name__, static_folder=..., static_url_path=...).
func flaskStaticArgs(a *appFact, args []token, ev Evidence) {
	for _, arg := range splitTop(args, ",") {
		if len(arg) != 3 || arg[0].kind != tName || arg[1].text != "=" {
			continue
		}
		v := arg[2]
		switch arg[0].text {
		case "static_folder":
			if v.kind == tName && v.text == "None" {
				a.staticOff = true
			} else if v.kind == tString {
				val := v.text
				a.staticFolder = &val
			}
			a.staticEv = &ev
		case "static_url_path":
			if v.kind == tString {
				val := v.text
				a.staticURL = &val
			}
			a.staticEv = &ev
		}
	}
}

// param is one function parameter.
type param struct {
	name       string
	star       int // 1 for *args, 2 for **kwargs
	hasDefault bool
}

// parseParams reads the parameters of a def header's tokens.
func parseParams(toks []token) []param {
	open := -1
	for i, t := range toks {
		if t.text == "(" {
			open = i
			break
		}
	}
	if open < 0 {
		return nil
	}
	closeAt := matching(toks, open)
	if closeAt < 0 {
		return nil
	}
	var out []param
	for _, part := range splitTop(toks[open+1:closeAt], ",") {
		if len(part) == 0 {
			continue
		}
		p := param{}
		i := 0
		switch part[0].text {
		case "*":
			p.star = 1
			i = 1
		case "**":
			p.star = 2
			i = 1
		case "/":
			continue
		}
		if i >= len(part) {
			continue // a bare *: the parameters after it are keyword-only
		}
		if part[i].kind != tName {
			continue
		}
		p.name = part[i].text
		p.hasDefault = indexOp(part, "=") >= 0
		out = append(out, p)
	}
	return out
}

func requiredNames(params []param) []string {
	var out []string
	for _, p := range params {
		if !p.hasDefault && p.star == 0 {
			out = append(out, p.name)
		}
	}
	return out
}

// assignment splits "a = b = expr" and "a: T = expr" into simple target
// names and the right-hand side. Other statements give no targets.
func assignment(toks []token) ([]string, []token) {
	var targets []string
	start := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tOp && (t.text == "(" || t.text == "[" || t.text == "{") {
			if j := matching(toks, i); j > 0 {
				i = j
				continue
			}
			return nil, nil
		}
		if t.kind != tOp || t.text != "=" {
			continue
		}
		lhs := toks[start:i]
		// "name: annotation" -> name
		if len(lhs) >= 2 && lhs[1].text == ":" {
			lhs = lhs[:1]
		}
		if len(lhs) != 1 || lhs[0].kind != tName || isKeyword(lhs[0].text) {
			return nil, nil
		}
		targets = append(targets, lhs[0].text)
		start = i + 1
	}
	if len(targets) == 0 {
		return nil, nil
	}
	return targets, toks[start:]
}

// call matches "dotted.name(args)" spanning all of toks and returns the
// name and the argument tokens.
func call(toks []token) (string, []token, bool) {
	if len(toks) < 3 || toks[0].kind != tName {
		return "", nil, false
	}
	name := toks[0].text
	i := 1
	for i+1 < len(toks) && toks[i].text == "." && toks[i+1].kind == tName {
		name += "." + toks[i+1].text
		i += 2
	}
	if i >= len(toks) || toks[i].text != "(" {
		return "", nil, false
	}
	j := matching(toks, i)
	if j < 0 {
		return "", nil, false
	}
	return name, toks[i+1 : j], true
}

// firstArg is the first positional argument when it is a bare name.
func firstArg(args []token) string {
	parts := splitTop(args, ",")
	if len(parts) == 0 || len(parts[0]) != 1 || parts[0][0].kind != tName {
		return ""
	}
	return parts[0][0].text
}

// matching returns the index of the bracket closing the one at open, or -1.
func matching(toks []token, open int) int {
	depth := 0
	for i := open; i < len(toks); i++ {
		if toks[i].kind != tOp {
			continue
		}
		switch toks[i].text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTop splits toks at sep outside brackets. Empty input gives none.
func splitTop(toks []token, sep string) [][]token {
	if len(toks) == 0 {
		return nil
	}
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		if t.kind != tOp {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			if depth > 0 {
				depth--
			}
		case sep:
			if depth == 0 {
				out = append(out, toks[start:i])
				start = i + 1
			}
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

func dotted(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind != tName && t.text != "." {
			return ""
		}
		b.WriteString(t.text)
	}
	return b.String()
}

func indexName(toks []token, name string) int {
	for i, t := range toks {
		if t.kind == tName && t.text == name {
			return i
		}
	}
	return -1
}

func indexOp(toks []token, op string) int {
	for i, t := range toks {
		if t.kind == tOp && t.text == op {
			return i
		}
	}
	return -1
}

func isKeyword(s string) bool {
	switch s {
	case "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
		"def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
		"is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield":
		return true
	}
	return false
}
