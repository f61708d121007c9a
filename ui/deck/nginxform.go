package deck

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// nginxForm is the Form view of nginx.conf: its servers with their listen
// addresses, names and locations, and its upstreams. Each field edits one
// directive through NginxDocument.SetDirective, splicing only its bytes.
type nginxForm struct {
	doc      NginxDocument
	loading  bool
	edited   func()
	toSource func(line int)
	box      *fyne.Container
	msg      *widget.Label
	root     fyne.CanvasObject
	// fields by "server/location/name", for tests.
	fields map[string]*widget.Entry
}

func newNginxForm() *nginxForm {
	f := &nginxForm{box: container.NewVBox(), fields: map[string]*widget.Entry{}}
	f.msg = widget.NewLabel("")
	f.msg.Wrapping = fyne.TextWrapWord
	f.msg.Importance = widget.LowImportance
	f.root = container.NewVScroll(container.NewPadded(container.NewVBox(f.msg, f.box)))
	return f
}

func (f *nginxForm) object() fyne.CanvasObject { return f.root }

// Field returns the entry of a directive ("0/-1/listen", "0/1/uwsgi_pass"),
// for tests.
func (f *nginxForm) Field(key string) *widget.Entry { return f.fields[key] }

func fieldKey(p NginxPath) string { return fmt.Sprintf("%d/%d/%s", p.Server, p.Location, p.Name) }

func (f *nginxForm) load(doc Document) {
	d, ok := doc.(NginxDocument)
	if !ok {
		return
	}
	f.doc = d
	f.loading = true
	defer func() { f.loading = false }()
	f.box.RemoveAll()
	f.fields = map[string]*widget.Entry{}
	servers, err := d.Servers()
	if err != nil {
		f.msg.Importance = widget.DangerImportance
		f.msg.SetText("The form cannot read nginx.conf: " + plainError(err))
		return
	}
	f.msg.Importance = widget.LowImportance
	f.msg.SetText("Each field edits its own directive; comments, order and every other directive stay as written. Everything else is in the Source view.")
	if len(servers) == 0 {
		f.box.Add(widget.NewLabel("This file has no server blocks."))
	}
	for i, s := range servers {
		f.box.Add(f.serverCard(i, s))
	}
	ups, err := d.Upstreams()
	if err == nil && len(ups) > 0 {
		var rows []fyne.CanvasObject
		for _, u := range ups {
			rows = append(rows, widget.NewLabelWithStyle(u.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			for _, s := range u.Servers {
				rows = append(rows, widget.NewLabelWithStyle("server "+s, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}))
			}
		}
		f.box.Add(widget.NewCard("Upstreams", "edit their servers in the Source view", container.NewVBox(rows...)))
	}
}

func (f *nginxForm) entry(p NginxPath, value, hint string) *widget.FormItem {
	e := widget.NewEntry()
	e.SetText(value)
	e.SetPlaceHolder("not set")
	e.OnChanged = func(v string) { f.set(p, v) }
	f.fields[fieldKey(p)] = e
	item := widget.NewFormItem(p.Name, e)
	item.HintText = hint
	return item
}

func (f *nginxForm) serverCard(i int, s NginxServer) fyne.CanvasObject {
	at := func(name string) NginxPath { return NginxPath{Server: i, Location: -1, Upstream: -1, Name: name} }
	listen := ""
	if len(s.Listen) > 0 {
		listen = s.Listen[0]
	}
	form := widget.NewForm(
		f.entry(at("listen"), listen, "address:port the proxy listens on"),
		f.entry(at("server_name"), s.ServerName, "host names this server answers"),
		f.entry(at("root"), s.Root, "folder of files (relative to the project)"),
		f.entry(at("client_max_body_size"), s.ClientMaxBodySize, "largest request body, e.g. 10m"),
	)
	if len(s.Listen) > 1 {
		more := widget.NewLabel("also listens on " + strings.Join(s.Listen[1:], ", ") + " (edit in Source)")
		more.Importance = widget.LowImportance
		form.Append("", more)
	}
	locs := widget.NewForm()
	for j, l := range s.Locations {
		line := l.Line
		label := "location " + l.Match
		if l.Handler == "" {
			b := widget.NewButtonWithIcon("no handler: edit in Source", theme.DocumentIcon(), func() { f.toSource(line) })
			b.Importance = widget.LowImportance
			locs.Append(label, b)
			continue
		}
		p := NginxPath{Server: i, Location: j, Upstream: -1, Name: l.Handler}
		item := f.entry(p, l.Target, handlerHint(l.Handler))
		item.Text = label
		item.HintText = l.Handler + ": " + handlerHint(l.Handler)
		locs.AppendItem(item)
	}
	title := fmt.Sprintf("Server %d", i+1)
	if s.ServerName != "" {
		title += ": " + s.ServerName
	}
	return widget.NewCard(title, fmt.Sprintf("nginx.conf line %d", s.Line),
		container.NewVBox(form, widget.NewLabelWithStyle("Locations", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), locs))
}

func handlerHint(h string) string {
	switch h {
	case "uwsgi_pass":
		return "the engine's uwsgi socket, host:port"
	case "proxy_pass":
		return "an HTTP server, http://host:port"
	case "fastcgi_pass":
		return "a FastCGI server, host:port"
	case "alias":
		return "the folder these URLs map to"
	case "root":
		return "the folder URLs are appended to"
	case "return":
		return "status code and URL or text"
	}
	return ""
}

// outdated: a field's edit may change what the cards show around the
// fields (a server card is titled with its server_name), so the form is
// rebuilt from the document the next time it is shown.
func (f *nginxForm) outdated() bool { return true }

func (f *nginxForm) set(p NginxPath, v string) {
	if f.loading || f.doc == nil {
		return
	}
	if err := f.doc.SetDirective(p, strings.Fields(v)...); err != nil {
		f.msg.Importance = widget.DangerImportance
		f.msg.SetText(plainError(err))
		return
	}
	if f.edited != nil {
		f.edited()
	}
}
