package backend

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgideck/wsgideck/ui/deck"
)

// writeLikeAnEditor replaces the file at path the way editors save: a new
// file renamed over the old one.
func writeLikeAnEditor(t *testing.T, path, text string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	must(t, os.WriteFile(tmp, []byte(text), 0o644))
	must(t, os.Rename(tmp, path))
}

// onDisk registers a listener on doc that signals the returned channel.
func onDisk(doc deck.Document) <-chan struct{} {
	ch := make(chan struct{}, 16)
	doc.OnDiskChange(func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	return ch
}

// waitUntil waits for signals on ch until ok holds; the deadline only
// bounds a test that would otherwise hang.
func waitUntil(t *testing.T, what string, ch <-chan struct{}, ok func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !ok() {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no disk change reached the listener: %s", what)
		}
	}
}

// TestSoloDocumentsFollowTheDisk opens each config file while the other
// is missing: an outside edit of the open file reaches its document and
// its listeners; generating the missing file makes it open too, watched
// as well, while the first document stays the same one, still watched.
func TestSoloDocumentsFollowTheDisk(t *testing.T) {
	for _, gone := range []deck.Tier{deck.Proxy, deck.Engine} {
		name := map[deck.Tier]string{deck.Proxy: "nginx.conf missing", deck.Engine: "uwsgi.ini missing"}[gone]
		t.Run(name, func(t *testing.T) {
			b, err := New(Options{ConfigDir: t.TempDir(), DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close(t.Context()) })
			p := b.Project(DemoID)
			info := p.Info()
			open := map[deck.Tier]func() (deck.Document, error){
				deck.Engine: func() (deck.Document, error) { return p.Ini() },
				deck.Proxy:  func() (deck.Document, error) { return p.Nginx() },
			}
			path := map[deck.Tier]string{deck.Engine: info.IniPath, deck.Proxy: info.NginxPath}
			kept := deck.Engine
			if gone == deck.Engine {
				kept = deck.Proxy
			}
			must(t, os.Remove(path[gone]))

			if _, err := open[gone](); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Base(path[gone])) {
				t.Fatalf("opening the missing %s: %v", filepath.Base(path[gone]), err)
			}
			solo, err := open[kept]()
			if err != nil {
				t.Fatalf("opening %s alone: %v", filepath.Base(path[kept]), err)
			}
			changed := onDisk(solo)
			edit := func(marker string) {
				t.Helper()
				text, err := os.ReadFile(path[kept])
				must(t, err)
				writeLikeAnEditor(t, path[kept], "# "+marker+"\n"+string(text))
				waitUntil(t, marker+" in "+solo.Name(), changed, func() bool { return strings.HasPrefix(solo.Text(), "# "+marker+"\n") })
				if solo.Dirty() {
					t.Errorf("%s is dirty after reloading from disk", solo.Name())
				}
			}
			edit("edited outside while the other file is missing")

			// The missing file is generated: it opens, watched; the
			// document already open is the same and still follows.
			must(t, p.GenerateConfig(gone))
			other, err := open[gone]()
			if err != nil {
				t.Fatalf("opening the generated %s: %v", filepath.Base(path[gone]), err)
			}
			again, err := open[kept]()
			if err != nil || again != solo {
				t.Fatalf("%s reopened as another document (%v)", solo.Name(), err)
			}
			otherChanged := onDisk(other)
			text, err := os.ReadFile(path[gone])
			must(t, err)
			writeLikeAnEditor(t, path[gone], "# edited outside\n"+string(text))
			waitUntil(t, "the generated file's edit", otherChanged, func() bool { return strings.HasPrefix(other.Text(), "# edited outside\n") })
			edit("edited outside with both files there")
		})
	}
}
