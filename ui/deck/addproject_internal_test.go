package deck

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsgideck/wsgideck/engine/configgen"
)

func appOf(module string) configgen.App { return configgen.App{Module: module} }

func staticOf(url, dir string) configgen.StaticMap { return configgen.StaticMap{URL: url, Dir: dir} }

// checkNP is configgen's check of np's config, without the folder.
func checkNP(np NewProject) error { return configgen.Validate(configgen.Local, np.config()) }

// FuzzStaticIndex: staticIndex reads back the index of every Static field
// configgen names, and never claims one for a field that is not one.
func FuzzStaticIndex(f *testing.F) {
	for _, s := range []string{"Static[0].URL", "Static[12].Dir", "Static[].URL", "Static[x].Dir", "App.Module", "Static[1]", "Static[-1].URL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		i, ok := staticIndex(field)
		if ok && !strings.HasPrefix(field, "Static[") {
			t.Fatalf("staticIndex(%q) = %d for a field that is no Static entry", field, i)
		}
		if ok && i >= 0 {
			if j, ok2 := staticIndex(fmt.Sprintf("Static[%d].URL", i)); !ok2 || j != i {
				t.Fatalf("Static[%d].URL reads as %d, %v", i, j, ok2)
			}
		}
	})
}

// dialogError names configgen's fields as the dialog labels them, a
// static folder by the line it is on.
func TestDialogErrorNamesTheDialogFields(t *testing.T) {
	np := NewProject{App: appOf("wsgi"), ProxyPort: 8000, EnginePort: 8000}
	np.Static = append(np.Static, staticOf("/s/", "a"), staticOf("nope", "b"))
	err := dialogError(checkNP(np), []int{2, 5})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`Engine port "8000": is the same port as Proxy port; each needs its own`, `Static files, line 5 "nope": must be a URL path starting with /`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "Name") {
		t.Errorf("the backend's name check leaked into the dialog:\n%v", err)
	}
}
