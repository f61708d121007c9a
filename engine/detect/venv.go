package detect

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// cfgLine is one "key = value" line of pyvenv.cfg.
type cfgLine struct {
	key, value string
	line       int
}

// parsePyvenvCfg reads pyvenv.cfg the way CPython's site.py does: each
// line with an '=' is a key (lower-cased, trimmed) and a value (trimmed);
// other lines are ignored.
func parsePyvenvCfg(data []byte) []cfgLine {
	var out []cfgLine
	for i, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		out = append(out, cfgLine{key: k, value: strings.TrimSpace(v), line: i + 1})
	}
	return out
}

// venvOrder ranks the conventional names first.
func venvOrder(dir string) int {
	switch dir {
	case ".venv":
		return 0
	case "venv":
		return 1
	case "env":
		return 2
	case ".env":
		return 3
	}
	return 4
}

// interestingPackages are the distributions whose presence matters here.
var interestingPackages = map[string]bool{
	"flask": true, "django": true, "fastapi": true, "starlette": true, "quart": true,
	"uwsgi": true, "gunicorn": true, "werkzeug": true, "bottle": true, "falcon": true,
	"pyramid": true, "a2wsgi": true, "uvicorn": true, "whitenoise": true,
}

func findVenvs(root string, dirs []string) ([]Venv, []Note) {
	sort.Slice(dirs, func(i, j int) bool {
		oi, oj := venvOrder(dirs[i]), venvOrder(dirs[j])
		if oi != oj {
			return oi < oj
		}
		return dirs[i] < dirs[j]
	})
	var out []Venv
	var notes []Note
	for _, d := range dirs {
		out = append(out, readVenv(root, d))
	}
	usable := 0
	var names []string
	for _, v := range out {
		if v.Usable {
			usable++
			names = append(names, v.Dir)
		}
	}
	switch {
	case len(out) == 0:
		notes = append(notes, Note{Level: Info, Message: "no virtualenv in the project folder (.venv, venv, env): the app runs with the Python interpreter chosen for the project; Poetry, Pipenv and conda keep theirs elsewhere, so choose that interpreter if you use one"})
	case usable > 1:
		notes = append(notes, Note{Level: Unsure, Message: "several virtualenvs: " + strings.Join(names, ", ") + "; choose the one the app's packages are installed in"})
	}
	return out, notes
}

func readVenv(root, dir string) Venv {
	v := Venv{Dir: dir}
	abs := filepath.Join(root, filepath.FromSlash(dir))
	cfgRel := path.Join(dir, "pyvenv.cfg")
	if data, err := os.ReadFile(filepath.Join(abs, "pyvenv.cfg")); err == nil {
		for _, l := range parsePyvenvCfg(data) {
			ev := Evidence{File: cfgRel, Line: l.line, Text: clip(l.key + " = " + l.value)}
			switch l.key {
			case "home":
				v.Home = l.value
			case "version", "version_info":
				if v.Version == "" || l.key == "version" {
					v.Version = shortVersion(l.value)
				}
				v.Evidence = append(v.Evidence, ev)
			case "include-system-site-packages":
				v.SystemSitePackages = strings.EqualFold(l.value, "true")
			}
		}
	} else {
		v.Notes = append(v.Notes, Note{Level: Info, Evidence: []Evidence{{File: dir}}, Message: dir + " has no pyvenv.cfg: an old-style virtualenv; its Python version is unknown"})
	}
	for _, c := range []string{"bin/python3", "bin/python", "Scripts/python.exe"} {
		p := filepath.Join(abs, filepath.FromSlash(c))
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		v.Python = path.Join(dir, c)
		fi, err := os.Stat(p) // follows the link to the base interpreter
		if err == nil && fi.Mode().IsRegular() {
			v.Usable = true
			v.Evidence = append([]Evidence{{File: v.Python, Text: "the interpreter"}}, v.Evidence...)
		} else {
			target, _ := os.Readlink(p)
			v.Notes = append(v.Notes, Note{Level: Problem, Evidence: []Evidence{{File: v.Python}},
				Message: fmt.Sprintf("%s points to %s, which does not exist: the Python this virtualenv was made from was moved or removed. Recreate it: python3 -m venv --clear %s, then reinstall the requirements", v.Python, target, dir)})
		}
		break
	}
	if v.Python == "" {
		v.Notes = append(v.Notes, Note{Level: Problem, Evidence: []Evidence{{File: dir}}, Message: dir + " has no bin/python: it is not a usable virtualenv"})
	}
	v.Packages = installedPackages(abs)
	return v
}

// shortVersion keeps major.minor.micro: "3.11.2.final.0" -> "3.11.2".
func shortVersion(s string) string {
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return strings.Join(parts, ".")
}

// installedPackages reads the *.dist-info folder names in site-packages:
// "Flask-3.0.2.dist-info" -> flask: 3.0.2. It returns nil when there is no
// site-packages folder to read, so "not installed" is never a guess.
func installedPackages(venv string) map[string]string {
	var sites []string
	if m, _ := filepath.Glob(filepath.Join(venv, "lib", "python*", "site-packages")); m != nil {
		sites = append(sites, m...)
	}
	sites = append(sites, filepath.Join(venv, "Lib", "site-packages"))
	var out map[string]string // nil when no site-packages could be read
	for _, site := range sites {
		entries, err := os.ReadDir(site)
		if err != nil {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".dist-info")
			if !ok {
				continue
			}
			dist, version, ok := strings.Cut(name, "-")
			if !ok {
				continue
			}
			dist = strings.ToLower(strings.ReplaceAll(dist, "_", "-"))
			if interestingPackages[dist] {
				out[dist] = version
			}
		}
	}
	return out
}
