package project

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/configgen"
)

// DemoID is the built-in demo project's ID.
const DemoID = "demo"

// Project is one app folder wsgideck manages.
type Project struct {
	// ID is the stable key: it survives a rename. "demo" for the demo.
	ID string `json:"id"`
	// Name is what the user sees; unique in a Store.
	Name string `json:"name"`
	// Dir is the app folder, absolute.
	Dir string `json:"dir"`
	// Ini and Nginx are the config files, absolute (normally
	// Dir/uwsgi.ini and Dir/nginx.conf). nginx.conf is read with Dir as
	// nginx's prefix, as wsgideck runs it.
	Ini   string `json:"ini"`
	Nginx string `json:"nginx"`
	// Python is the interpreter the workers run; "" means the one in the
	// uwsgi.ini's home (virtualenv), else python3 on PATH.
	Python string `json:"python,omitempty"`
	// Config holds the local settings the configs were generated from:
	// the app, virtualenv, static folders and ports. The files are the
	// truth once edited; this is where the forms start.
	Config configgen.Config `json:"config"`
}

// Builtin reports whether p is the demo project.
func (p Project) Builtin() bool { return p.ID == DemoID }

// OpenDocs opens the project's uwsgi.ini and nginx.conf for editing,
// saving through saver (nil: a zero atomicfile.Saver).
func (p Project) OpenDocs(saver *atomicfile.Saver) (*confedit.INIDoc, *confedit.NginxDoc, error) {
	return OpenDocs(p.Ini, p.Nginx, p.Dir, saver)
}

// OpenDocs opens a uwsgi.ini and an nginx.conf read with prefix as nginx's
// -p (the project folder).
func OpenDocs(ini, nginx, prefix string, saver *atomicfile.Saver) (*confedit.INIDoc, *confedit.NginxDoc, error) {
	id, err := confedit.OpenINI(ini, confedit.INIOptions{Saver: saver})
	if err != nil {
		return nil, nil, err
	}
	nd, err := confedit.OpenNginx(nginx, confedit.NginxOptions{Prefix: prefix, Saver: saver})
	if err != nil {
		return nil, nil, err
	}
	return id, nd, nil
}

// Slug makes a name usable where configgen needs one (file, unit and
// socket names): lower-case letters, digits, '.', '_' and '-'.
func Slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ' && b.Len() > 0:
			b.WriteByte('-')
		}
	}
	s := strings.TrimLeft(b.String(), "._-")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "app"
	}
	return s
}

// newID makes a project's ID from its first name and folder.
func newID(name, dir string) string {
	h := sha256.Sum256([]byte(dir))
	return Slug(name) + "-" + hex.EncodeToString(h[:4])
}

// checkName validates a project's display name.
func checkName(name string) error {
	switch {
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("project name %q: remove the blanks around it", name)
	case name == "":
		return fmt.Errorf("a project needs a name")
	case len(name) > 80:
		return fmt.Errorf("project name %q: at most 80 characters", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("project name %q: no control characters or line breaks", name)
		}
	}
	return nil
}

// withDefaults fills a project's file paths.
func (p Project) withDefaults() (Project, error) {
	dir, err := filepath.Abs(p.Dir)
	if err != nil {
		return p, err
	}
	p.Dir = dir
	if p.Ini == "" {
		p.Ini = filepath.Join(dir, configgen.FileUWSGIIni)
	}
	if p.Nginx == "" {
		p.Nginx = filepath.Join(dir, configgen.FileNginxConf)
	}
	if p.Ini, err = filepath.Abs(p.Ini); err != nil {
		return p, err
	}
	p.Nginx, err = filepath.Abs(p.Nginx)
	return p, err
}
