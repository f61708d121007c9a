package crosscheck

import (
	"fmt"
	"os"
	"strings"

	"github.com/wsgideck/wsgideck/engine/confedit"
)

// checkStatic reports static folders that do not exist: nginx's root and
// alias (except a root in a location that passes everything on, where it
// only sets $document_root), and uWSGI's static-map.
func (c *checker) checkStatic() {
	for _, r := range c.site.roots {
		d := r.n.d
		if d.Name == "root" && r.n.parent != nil && r.n.parent.d.Name == "location" && hasPass(r.n.parent) {
			continue
		}
		what := "the files under it"
		if loc := r.n.ancestor("location"); loc != nil {
			what = "requests for " + strings.Join(loc.d.Values(), " ")
		}
		c.checkFolder([]Location{dirLoc(d)}, c.dirAt(d), r.dir, what, strings.HasSuffix(d.Arg(0), "/") || d.Name == "root")
	}
	for _, o := range c.parsed.Options {
		if o.Key != "static-map" && o.Key != "static-map2" {
			continue
		}
		mount, dir, ok := strings.Cut(o.Value, "=")
		if !ok || dir == "" {
			continue // the ini's validation reports it
		}
		c.checkFolder([]Location{{File: o.File, Line: o.Line}}, fmt.Sprintf("%s %s = %s", c.names.at(o.File, o.Line), o.Raw, o.Value),
			absPath(c.iniDir, dir), "requests for "+mount, true)
	}
}

func hasPass(n *node) bool {
	for _, name := range []string{"uwsgi_pass", "proxy_pass", "fastcgi_pass"} {
		if len(n.d.Block.Find(name)) > 0 {
			return true
		}
	}
	return false
}

func (c *checker) checkFolder(locs []Location, text, dir, what string, mustBeDir bool) {
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		hint := ""
		if strings.Contains(dir, "static") {
			hint = " (a Django STATIC_ROOT is filled by \"python manage.py collectstatic\")"
		}
		c.add(Finding{Severity: confedit.Warning, Kind: KindStatic, Locations: locs,
			Message: fmt.Sprintf("%s: %s does not exist, so %s get 404; create it or point there the folder that holds the files%s.", text, dir, what, hint)})
	case mustBeDir && !fi.IsDir():
		c.add(Finding{Severity: confedit.Warning, Kind: KindStatic, Locations: locs,
			Message: fmt.Sprintf("%s: %s is a file, not a folder, so %s get 404.", text, dir, what)})
	}
}
