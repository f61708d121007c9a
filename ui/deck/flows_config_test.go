package deck_test

import (
	"os"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/ui/backend"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// uWSGI binds every socket line of a file. The form shows the last one;
// replacing its text as a user does (select all, type) passes through an
// empty field, which removes that line for a moment: the new value goes
// back on that line, and the other socket, the one the proxy's
// uwsgi_pass reaches, is left alone.
func TestFlowFormRetypeKeepsTheOtherSocket(t *testing.T) {
	h := newFlowHarness(t)
	p, eng := h.handProject()
	path := p.Info().IniPath
	must(t, os.WriteFile(path, []byte(readFile(t, path)+"socket = /tmp/shop.sock\n"), 0o644))
	h.selectProject(backend.DemoID) // reopen the file as changed
	h.selectProject(p.Info().ID)
	h.showIni(deck.ViewForm)
	if got := h.entryAfter("uwsgi socket").Text; got != "/tmp/shop.sock" {
		t.Fatalf("the form shows socket %q, want the last one, /tmp/shop.sock", got)
	}
	setEntry(h.entryAfter("uwsgi socket"), "/tmp/other.sock")
	h.tap(deck.ViewSource)
	txt := h.editor().Text()
	if !strings.Contains(txt, "\nsocket = 127.0.0.1:"+eng+"\n") {
		t.Errorf("the TCP socket the proxy uses is gone:\n%s", txt)
	}
	if !strings.HasSuffix(txt, "die-on-term = true\nsocket = /tmp/other.sock\n") || strings.Contains(txt, "shop.sock") {
		t.Errorf("the edited socket is not on its own line, in place:\n%s", txt)
	}
	// Clearing the field for good removes that line only; the form then
	// shows the socket that is left, as the Source view has it.
	h.tap(deck.ViewForm)
	setEntry(h.entryAfter("uwsgi socket"), "")
	h.d.SelectTab(deck.TabLogs)
	h.d.SelectTab(deck.TabIni)
	if got := h.entryAfter("uwsgi socket").Text; got != "127.0.0.1:"+eng {
		t.Errorf("after clearing, the form shows socket %q, want the one left, 127.0.0.1:%s", got, eng)
	}
	h.tap(deck.ViewSource)
	if txt := h.editor().Text(); strings.Contains(txt, "other.sock") || !strings.Contains(txt, "socket = 127.0.0.1:"+eng) {
		t.Errorf("after clearing the field:\n%s", txt)
	}
}

// The nginx.conf form shows what its own edits did around the field: a
// server card is titled with its server_name, and after the name is
// edited the card reads the new one the next time the tab is shown, as
// the Source view does.
func TestFlowNginxFormShowsItsOwnEdit(t *testing.T) {
	h := newFlowHarness(t)
	h.handProject()
	h.d.SelectTab(deck.TabNginx)
	h.tap(deck.ViewForm)
	if !strings.Contains(h.texts(), "Server 1: shop.test") {
		t.Fatalf("the server card is not titled with its name:\n%s", h.texts())
	}
	setEntry(h.entryAfter("server_name"), "shop.local")
	h.d.SelectTab(deck.TabLogs)
	h.d.SelectTab(deck.TabNginx)
	txt := h.texts()
	if !strings.Contains(txt, "Server 1: shop.local") || strings.Contains(txt, "shop.test") {
		t.Errorf("after server_name became shop.local, the form reads:\n%s", txt)
	}
	if got := h.entryAfter("server_name").Text; got != "shop.local" {
		t.Errorf("the server_name field reads %q", got)
	}
}
