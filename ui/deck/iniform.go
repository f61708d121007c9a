package deck

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// iniField is one option the uwsgi.ini form shows.
type iniField struct {
	key   string
	label string
	hint  string
	flag  bool // a boolean option: a check box
}

// iniGroups are the settings users change most, grouped as uWSGI's docs
// group them.
var iniGroups = []struct {
	title  string
	fields []iniField
}{
	{"App", []iniField{
		{key: "module", label: "Module", hint: "package.module:callable, e.g. wsgi:application"},
		{key: "wsgi-file", label: "WSGI file", hint: "a .py file to load instead of a module"},
		{key: "callable", label: "Callable", hint: "default: application"},
		{key: "chdir", label: "Folder (chdir)", hint: "%d is this file's folder"},
		{key: "home", label: "Virtualenv (home)", hint: "the venv folder; empty: the system Python"},
		{key: "pythonpath", label: "Python path", hint: "an extra import folder"},
	}},
	{"Sockets", []iniField{
		{key: "socket", label: "uwsgi socket", hint: "host:port the proxy's uwsgi_pass reaches"},
		{key: "http-socket", label: "HTTP socket", hint: "host:port speaking plain HTTP"},
		{key: "stats", label: "Stats server", hint: "host:port for uwsgitop"},
		{key: "listen", label: "Listen queue", hint: "backlog, default 100"},
	}},
	{"Processes and threads", []iniField{
		{key: "master", label: "Master", flag: true},
		{key: "processes", label: "Worker processes", hint: "default 1"},
		{key: "threads", label: "Threads per worker", hint: "default 1"},
		{key: "enable-threads", label: "Enable threads", flag: true},
	}},
	{"Limits", []iniField{
		{key: "harakiri", label: "Harakiri (s)", hint: "kill a worker stuck on one request this long"},
		{key: "max-requests", label: "Max requests", hint: "recycle a worker after this many"},
		{key: "buffer-size", label: "Buffer size", hint: "largest request head, bytes"},
		{key: "post-buffering", label: "Post buffering", hint: "read bodies up to this size first"},
		{key: "reload-on-rss", label: "Reload on RSS (MB)", hint: "recycle a worker past this memory"},
	}},
	{"Logging", []iniField{
		{key: "disable-logging", label: "No request log", flag: true},
		{key: "logto", label: "Log file", hint: "empty: the app's Logs tab"},
	}},
	{"Development", []iniField{
		{key: "py-autoreload", label: "Reload on code change (s)", hint: "check Python modules every N seconds"},
		{key: "touch-reload", label: "Reload when touched", hint: "a file; %p is this file"},
	}},
}

// iniForm is the Form view of uwsgi.ini: each field edits one option line
// through IniDocument.Set, leaving every other byte of the file alone.
type iniForm struct {
	doc     IniDocument
	entries map[string]*widget.Entry
	checks  map[string]*widget.Check
	loading bool
	stale   bool // see formView.outdated
	edited  func()
	missing *widget.Label
	root    fyne.CanvasObject
}

func newIniForm() *iniForm {
	f := &iniForm{entries: map[string]*widget.Entry{}, checks: map[string]*widget.Check{}}
	var groups []fyne.CanvasObject
	for _, g := range iniGroups {
		form := widget.NewForm()
		for _, fd := range g.fields {
			key := fd.key
			if fd.flag {
				c := widget.NewCheck("", func(on bool) { f.setFlag(key, on) })
				f.checks[key] = c
				form.Append(fd.label, c)
				continue
			}
			e := widget.NewEntry()
			e.SetPlaceHolder("not set")
			e.OnChanged = func(v string) { f.set(key, v) }
			f.entries[key] = e
			item := widget.NewFormItem(fd.label, e)
			item.HintText = fd.hint
			form.AppendItem(item)
		}
		groups = append(groups, widget.NewCard(g.title, "", form))
	}
	f.missing = widget.NewLabel("")
	f.missing.Importance = widget.LowImportance
	f.missing.Wrapping = fyne.TextWrapWord
	note := widget.NewLabel("Each field edits its own line of the file; comments, order and every other option stay as written. Options not listed here are in the Source view.")
	note.Importance = widget.LowImportance
	note.Wrapping = fyne.TextWrapWord
	f.root = container.NewVScroll(container.NewPadded(container.NewVBox(note, container.NewGridWithColumns(2, groups...), f.missing)))
	return f
}

func (f *iniForm) object() fyne.CanvasObject { return f.root }

// Entry returns the form field of option key, for tests.
func (f *iniForm) Entry(key string) *widget.Entry { return f.entries[key] }

func (f *iniForm) load(doc Document) {
	d, ok := doc.(IniDocument)
	if !ok {
		return
	}
	f.doc = d
	f.loading = true
	defer func() { f.loading = false }()
	for key, e := range f.entries {
		v, _ := d.Get(key)
		e.SetText(v)
	}
	for key, c := range f.checks {
		v, ok := d.Get(key)
		c.SetChecked(ok && uwsgiini.ParseBool(v))
	}
	f.missing.SetText("")
}

func (f *iniForm) outdated() bool {
	s := f.stale
	f.stale = false
	return s
}

func (f *iniForm) set(key, v string) {
	if f.loading || f.doc == nil {
		return
	}
	v = strings.TrimSpace(v)
	if err := f.doc.Set(key, v); err != nil {
		f.missing.SetText(err.Error())
		return
	}
	if _, still := f.doc.Get(key); v == "" && still {
		// Another line of the option is left (uWSGI binds every socket
		// line): the field says "not set", the file does not.
		f.stale = true
	}
	if f.edited != nil {
		f.edited()
	}
}

func (f *iniForm) setFlag(key string, on bool) {
	if f.loading || f.doc == nil {
		return
	}
	v := "false"
	if on {
		v = "true"
	}
	if _, ok := f.doc.Get(key); !ok && !on {
		v = "" // unset is already off: leave the file alone
	}
	if err := f.doc.Set(key, v); err != nil {
		f.missing.SetText(err.Error())
		return
	}
	if f.edited != nil {
		f.edited()
	}
}
