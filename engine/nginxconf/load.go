package nginxconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Options control Load. The zero value reads from the file system.
type Options struct {
	// Prefix is the conf prefix relative include paths are resolved
	// against, as nginx's -p/-c give it. Empty means the main file's
	// directory.
	Prefix string
	// Context is the context the main file's top level is read in. The
	// zero value means CtxMain (an nginx.conf); CtxHTTP suits a file meant
	// for sites-enabled.
	Context Context
	// ReadFile reads a file; nil means os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Glob expands an include pattern; nil means Glob, which behaves like
	// glob(3) as nginx calls it.
	Glob func(pattern string) ([]string, error)
}

func (o *Options) readFile(path string) ([]byte, error) {
	if o.ReadFile != nil {
		return o.ReadFile(path)
	}
	return os.ReadFile(path)
}

func (o *Options) glob(pattern string) ([]string, error) {
	if o.Glob != nil {
		return o.Glob(pattern)
	}
	return Glob(pattern)
}

// Load reads the main file at path and every file it includes, then checks
// the whole config. The returned error is the first error nginx -t would
// report (a *Diagnostic), or nil; cfg.Diagnostics holds every problem found,
// warnings included. The main file's path is made absolute, as nginx makes
// it. The config is returned whenever the main file could be read, even with
// errors, so that an editor can show what was parsed.
func Load(path string, opts *Options) (*Config, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	src, err := o.readFile(path)
	if err != nil {
		msg, _ := openError(path, err)
		return nil, &Diagnostic{Msg: msg, Offset: -1}
	}
	return load(path, src, o)
}

// LoadSource is Load with the main file's content given, as an editor holds
// it before saving; included files are still read through Options.ReadFile.
// path names the main file in messages and, when Options.Prefix is empty,
// sets the prefix.
func LoadSource(path string, src []byte, opts *Options) (*Config, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	return load(path, src, o)
}

func load(path string, src []byte, o Options) (*Config, error) {
	prefix := o.Prefix
	if prefix == "" {
		prefix = filepath.Dir(path)
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	ctx := o.Context
	if ctx == 0 {
		ctx = CtxMain
	}
	c := &Config{Prefix: prefix, Context: ctx, opts: o, byPath: map[string]*File{}}
	c.Main, _ = Parse(path, src)
	c.Files = []*File{c.Main}
	c.byPath[path] = c.Main
	c.resolveIncludes(c.Main, []*File{c.Main})
	c.Check()
	return c, c.Diagnostics.Err()
}

// Reload resolves the include directives again and re-checks the config.
// Call it after editing an include directive. Files already loaded are kept
// as they are in memory, edits included; only files that are newly matched
// are read. Files no longer included drop out of Files.
func (c *Config) Reload() error {
	c.prev = c.byPath
	c.Files = []*File{c.Main}
	c.byPath = map[string]*File{c.Main.Path: c.Main}
	c.resolveIncludes(c.Main, []*File{c.Main})
	c.prev = nil
	c.Check()
	return c.Diagnostics.Err()
}

// IncludePath returns the full name nginx gives an include pattern:
// absolute patterns as they are, others appended to the conf prefix.
func (c *Config) IncludePath(pattern string) string {
	if strings.HasPrefix(pattern, "/") {
		return pattern
	}
	return c.Prefix + pattern
}

// resolveIncludes follows the include directives of f, depth first, in
// source order. stack holds the files being included, f last, for cycle
// detection.
func (c *Config) resolveIncludes(f *File, stack []*File) {
	f.Walk(func(d *Directive) bool {
		if !d.IsInclude() {
			return true
		}
		d.Included, d.IncludeErr = nil, nil
		full := c.IncludePath(d.Args[0].Value)
		paths := []string{full}
		if strings.ContainsAny(full, "*?[") {
			var err error
			if paths, err = c.opts.glob(full); err != nil {
				d.IncludeErr = c.includeDiag(d, fmt.Sprintf(`glob() "%s" failed (%v)`, full, err))
				return true
			}
		}
		var included []*File
		for _, p := range paths {
			if inc := c.byPath[p]; inc != nil {
				for _, s := range stack {
					if s == inc {
						d.IncludeErr = c.includeDiag(d, fmt.Sprintf(`recursive include of "%s"`, p))
						return true
					}
				}
				included = append(included, inc)
				continue
			}
			if inc := c.prev[p]; inc != nil {
				c.byPath[p] = inc
				c.Files = append(c.Files, inc)
				included = append(included, inc)
				c.resolveIncludes(inc, append(stack, inc))
				continue
			}
			src, err := c.opts.readFile(p)
			if err != nil {
				msg, located := openError(p, err)
				d.IncludeErr = &Diagnostic{Msg: msg, Offset: -1, Directive: d}
				if located {
					d.IncludeErr = c.includeDiag(d, msg)
				}
				return true
			}
			inc, _ := Parse(p, src)
			c.byPath[p] = inc
			c.Files = append(c.Files, inc)
			included = append(included, inc)
			c.resolveIncludes(inc, append(stack, inc))
		}
		d.Included = included
		return true
	})
}

func (c *Config) includeDiag(d *Directive, msg string) *Diagnostic {
	return &Diagnostic{Msg: msg, File: d.File.Path, Line: d.EndLine, Col: d.Col, Offset: d.Start, Directive: d}
}

// openError words a failure to read a file as nginx does:
// open() "/etc/nginx/x.conf" failed (2: No such file or directory), and says
// whether nginx adds the including directive's location. Reading a directory
// fails later in nginx, in pread(), whose message carries no location.
func openError(path string, err error) (msg string, located bool) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		text := errno.Error()
		if text != "" {
			text = strings.ToUpper(text[:1]) + text[1:]
		}
		if errno == syscall.EISDIR {
			return fmt.Sprintf(`pread() "%s" failed (%d: %s)`, path, int(errno), text), false
		}
		return fmt.Sprintf(`open() "%s" failed (%d: %s)`, path, int(errno), text), true
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Sprintf(`open() "%s" failed (%v)`, path, err), true
}
