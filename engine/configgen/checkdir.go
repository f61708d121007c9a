package configgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// CheckLocal checks a local Config against the project folder dir it is
// for, before anything is written: Validate's checks, and that what the
// config points at is there. The app module must be a file or package
// under Chdir, a PythonPath folder or the virtualenv's site-packages (a
// typo in it would only show when the app fails to load), or one the
// project's Python finds installed; PythonPath and
// Venv must be folders. Relative paths are relative to dir. It returns nil
// or a *ValidationError naming every bad field, as Validate does.
//
// Static folders may be missing: Django's appears after collectstatic.
func CheckLocal(dir string, c Config) error {
	var fields []FieldError
	var ve *ValidationError
	if err := Validate(Local, c); errors.As(err, &ve) {
		fields = ve.Fields
	} else if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("the project folder %s is not there (deleted or moved?): choose the folder again", dir)
	}
	c = c.WithDefaults(Local)
	bad := map[string]bool{}
	for _, f := range fields {
		bad[f.Field] = true
	}
	add := func(field, value, problem string) {
		fields = append(fields, FieldError{Field: field, Value: value, Problem: problem})
		bad[field] = true
	}
	in := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, filepath.FromSlash(p))
	}

	chdir := in(c.Chdir)
	roots := []string{chdir}
	if !bad["Chdir"] && !isDir(chdir) {
		add("Chdir", c.Chdir, fmt.Sprintf("is not a folder in %s: use the folder the app runs from, usually . (the project folder)", dir))
	}
	for i, pp := range c.PythonPath {
		field := fmt.Sprintf("PythonPath[%d]", i)
		if bad[field] {
			continue
		}
		if p := in(pp); isDir(p) {
			roots = append(roots, p)
		} else {
			add(field, pp, fmt.Sprintf("is not a folder in %s: name the folder, relative to the project, that the app's module is imported from (e.g. src), or leave it empty", dir))
		}
	}
	if c.Venv != "" && !bad["Venv"] {
		if v := in(c.Venv); isDir(v) {
			sp, _ := filepath.Glob(filepath.Join(v, "lib", "python*", "site-packages"))
			roots = append(roots, sp...)
		} else {
			add("Venv", c.Venv, fmt.Sprintf("is not a folder in %s: choose the virtualenv's folder (the one holding bin/python), or none", dir))
		}
	}

	if m := c.App.Module; m != "" && !bad["App.Module"] {
		found := false
		for _, r := range roots {
			if moduleIn(r, m) {
				found = true
				break
			}
		}
		if !found && !installed(c.Venv, in, roots, m) {
			add("App.Module", m, moduleMissing(dir, chdir, m))
		}
	}
	if len(fields) > 0 {
		return &ValidationError{Profile: Local, Fields: fields}
	}
	return nil
}

// moduleMissing says where module m was looked for and how to fix it;
// when m is in a subfolder, it names that folder for the Python path.
func moduleMissing(dir, chdir, m string) string {
	rel := strings.ReplaceAll(m, ".", "/")
	msg := fmt.Sprintf("there is no %s.py or %s/__init__.py in %s", rel, rel, chdir)
	if sub := findBelow(chdir, m); sub != "" {
		return msg + fmt.Sprintf(": it is in %s/; add the folder that holds it to the Python path (%s)", sub, sub)
	}
	return msg + ": type the module's dotted path from the project folder, e.g. wsgi for wsgi.py or mysite.wsgi for mysite/wsgi.py (write no .py)"
}

// findBelow returns the subfolder of root, one or two levels down and
// slash-separated, that holds module m, or "".
func findBelow(root, m string) string {
	for _, pattern := range []string{"*", "*/*"} {
		dirs, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, d := range dirs {
			if isDir(d) && moduleIn(d, m) {
				if rel, err := filepath.Rel(root, d); err == nil {
					return filepath.ToSlash(rel)
				}
			}
		}
	}
	return ""
}

// moduleIn reports whether the dotted module m imports from folder root:
// a.b is a/b.py, a/b/__init__.py or an extension module a/b.*.so, with a
// a package or a namespace folder.
func moduleIn(root, m string) bool {
	base := filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(m, ".", "/")))
	if isFile(base+".py") || isFile(filepath.Join(base, "__init__.py")) {
		return true
	}
	so, _ := filepath.Glob(base + ".*.so")
	return len(so) > 0 || isFile(base+".so")
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// installed asks the project's Python (the virtualenv's, else python3 on
// PATH) whether module m's top-level package is installed, with roots on
// sys.path first: an app can be a package installed with pip or apt
// rather than a file in the project. Only the top-level name is looked
// up: finding a submodule would import (run) its parent package.
// Without an interpreter to ask, the answer is no.
func installed(venv string, in func(string) string, roots []string, m string) bool {
	python := ""
	if venv != "" {
		for _, name := range []string{"bin/python3", "bin/python"} {
			if p := filepath.Join(in(venv), name); isFile(p) {
				python = p
				break
			}
		}
	}
	if python == "" {
		p, err := exec.LookPath("python3")
		if err != nil {
			return false
		}
		python = p
	}
	top, _, _ := strings.Cut(m, ".")
	for _, r := range roots {
		if moduleIn(r, top) {
			// The package is the project's own and the module is not in
			// it: a typo (mysite.wgsi), whatever Python would say of the
			// package.
			return false
		}
	}
	const probe = "import importlib.util, sys; sys.path[:0] = sys.argv[2:]; " +
		"sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 1)"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// As the worker runs: the user's site-packages count; the folder the
	// app runs from is first (roots[0]).
	cmd := exec.CommandContext(ctx, python, append([]string{"-c", probe, top}, roots...)...)
	cmd.Dir = roots[0]
	return cmd.Run() == nil
}
