package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
	"github.com/wsgideck/wsgideck/engine/detect"
	"github.com/wsgideck/wsgideck/engine/project"
	"github.com/wsgideck/wsgideck/engine/proxy"
)

func init() {
	register("init", "detect the app in a folder and generate its local uwsgi.ini and nginx.conf", runInit)
	register("check", "validate uwsgi.ini and nginx.conf, then check that they agree (exit 0, 1 warnings, 2 errors)", runCheck)
	register("export", "write the production bundle (uwsgi.ini, nginx site, systemd unit, README)", runExport)
}

// Exit codes of check (and of the other project commands where they
// apply).
const (
	exitOK       = 0
	exitWarnings = 1
	exitErrors   = 2
)

// parseInterspersed parses flags that may come before or after the one
// positional argument (the project folder), as "check DIR --fix" and
// "check --fix DIR" both read naturally. Without one the folder is ".".
func parseInterspersed(fs *flag.FlagSet, args []string) (string, error) {
	dir, _, err := parseFolderArg(fs, args)
	return dir, err
}

// parseFolderArg is parseInterspersed that also says whether the folder
// was given.
func parseFolderArg(fs *flag.FlagSet, args []string) (dir string, given bool, err error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", false, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch len(pos) {
	case 0:
		return ".", false, nil
	case 1:
		return pos[0], true, nil
	}
	return "", false, fmt.Errorf("one project folder at most, got %q", pos)
}

// stringList is a repeatable (and comma-separated) string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("wsgideckd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// rel names path relative to dir when inside it.
func rel(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(r) {
		return r
	}
	return path
}

// ---------------------------------------------------------------- init

const initUsage = `usage: wsgideckd init [DIR] [--module MODULE:CALLABLE] [--name NAME] [--force]

Detects the WSGI app in DIR (default: the current folder) and writes its
local configs there: uwsgi.ini, nginx.conf, and nginx's stock mime.types and
uwsgi_params. Existing files are kept unless --force, which replaces
uwsgi.ini and nginx.conf (the old versions go to .wsgideck/backups).

It prints what it found, with the file and line that shows it, and what it
is unsure of. When detection cannot choose the app, nothing is written:
name it with --module (e.g. --module mysite.wsgi:application).

Exit status: 0 written, 1 nothing written (no app, or an error), 2 usage.`

func runInit(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("init", initUsage, stderr)
	module := fs.String("module", "", "the app to serve, as uWSGI's module option spells it")
	name := fs.String("name", "", "the project's name in the configs (default: the folder's name)")
	force := fs.Bool("force", false, "replace existing uwsgi.ini and nginx.conf (kept as backups)")
	dir, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "wsgideckd init: %v\n", err)
		return exitErrors
	}
	pr, err := project.Propose(dir, project.ProposeOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd init: %v\n", err)
		return exitWarnings
	}
	printDetection(stdout, pr)
	if *module != "" {
		if err := pr.ChooseModule(*module); err != nil {
			fmt.Fprintf(stderr, "wsgideckd init: %v\n", err)
			return exitErrors
		}
	}
	if *name != "" {
		pr.Config.Name = project.Slug(*name)
	}
	res, err := pr.Init(project.InitOptions{Overwrite: *force})
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd init: %v\n", err)
		return exitWarnings
	}
	c := res.Config
	fmt.Fprintln(stdout)
	if len(res.Written) > 0 {
		fmt.Fprintf(stdout, "wrote %s in %s\n", strings.Join(res.Written, ", "), pr.Dir)
	}
	if len(res.Kept) > 0 {
		fmt.Fprintf(stdout, "kept the existing %s (use --force to replace uwsgi.ini and nginx.conf)\n", strings.Join(res.Kept, ", "))
	}
	if len(res.Written) > 0 && c.App.Module != "" {
		fmt.Fprintf(stdout, "serving %s: nginx on 127.0.0.1:%d -> uWSGI socket 127.0.0.1:%d\n", c.App.Module+":"+c.App.Callable, c.ProxyPort, c.AppPort)
	}
	// The files written now must agree with the ones kept.
	if r := crossCheckDir(pr.Dir, stderr); r != nil && len(r.Findings) > 0 {
		fmt.Fprintln(stdout, "\nthe configs disagree; see wsgideckd check:")
		printFindings(stdout, r)
	}
	fmt.Fprintf(stdout, "\nnext: wsgideckd check %s, then wsgideckd up %s\n", dir, dir)
	return exitOK
}

// printDetection lists what detection found and doubted.
func printDetection(w io.Writer, pr *project.Proposal) {
	res := pr.Detection
	fmt.Fprintf(w, "%s:\n", res.Dir)
	if len(res.Apps) == 0 {
		fmt.Fprintln(w, "  no Python web app found")
	}
	for _, a := range res.Apps {
		mark := " "
		if pr.Chosen && a.Module == pr.App.Module && a.Callable == pr.App.Callable && a.PythonPath == pr.App.PythonPath {
			mark = "*"
		}
		state := ""
		if !a.Servable {
			state = " (cannot be served by a WSGI server)"
		}
		fmt.Fprintf(w, " %s app: %s %s at %s%s\n", mark, a.Framework, a.UWSGIModule(), a.Where(), state)
		for _, st := range a.Static {
			exists := ""
			if !st.Exists {
				exists = " (missing)"
			}
			fmt.Fprintf(w, "     static %s -> %s%s\n", st.URL, st.Dir, exists)
		}
	}
	for _, v := range res.Venvs {
		state := ""
		if !v.Usable {
			state = " (not usable)"
		}
		fmt.Fprintf(w, "   virtualenv: %s (Python %s)%s\n", v.Dir, v.Version, state)
	}
	for _, n := range res.Notes {
		if n.Level == detect.Info {
			fmt.Fprintf(w, "   %s\n", n)
		}
	}
	if len(pr.Unsure) > 0 {
		fmt.Fprintln(w, "unsure (please confirm):")
		for _, s := range pr.Unsure {
			fmt.Fprintf(w, "   %s\n", s)
		}
	}
}

// ---------------------------------------------------------------- check

const checkUsage = `usage: wsgideckd check [DIR] [--fix] [--skip-ports] [-v]

Validates DIR/uwsgi.ini (as uWSGI and wsgideck's engine read it) and
DIR/nginx.conf (as nginx -t and wsgideck's proxy read it, with DIR as the
prefix), then checks that they agree: the address and protocol nginx passes
to against uWSGI's sockets, buffer-size against nginx's header buffers, the
static folders, free ports (naming the process that holds a busy one) and
host names. Each problem names its file:line, in both files when it is about
both.

--fix applies the fixes offered (e.g. moving a busy port to a free one in
both files), shows the diff, and saves the files (the previous versions go
to .wsgideck/backups). --skip-ports leaves out the port checks, for a project
that is running. -v also lists options wsgideck ignores or does not act on.

Exit status: 0 no problem, 1 warnings only, 2 errors (or a usage error).`

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", checkUsage, stderr)
	fix := fs.Bool("fix", false, "apply the fixes offered and save both files")
	skipPorts := fs.Bool("skip-ports", false, "do not check that the ports are free")
	verbose := fs.Bool("v", false, "also list informational notes")
	dir, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "wsgideckd check: %v\n", err)
		return exitErrors
	}
	dir, _ = filepath.Abs(dir)
	id, nd, err := openProject(dir)
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd check: %v\n", err)
		return exitErrors
	}
	opts := crosscheck.Options{Dir: dir, SkipPorts: *skipPorts}
	if *fix {
		if code, ok := applyFixes(stdout, stderr, dir, id, nd, opts); !ok {
			return code
		}
	}
	errs, warns := 0, 0
	count := func(s confedit.Severity) {
		switch s {
		case confedit.Error:
			errs++
		case confedit.Warning:
			warns++
		}
	}
	for _, p := range validate(dir, id, nd) {
		if p.Severity == confedit.Info && !*verbose {
			continue
		}
		count(p.Severity)
		fmt.Fprintln(stdout, problemText(dir, p))
	}
	r, err := crosscheck.Check(id, nd, opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd check: %v\n", err)
		return exitErrors
	}
	for _, f := range r.Findings {
		count(f.Severity)
	}
	printFindings(stdout, r)
	switch {
	case errs > 0:
		fmt.Fprintf(stdout, "%d error(s), %d warning(s)\n", errs, warns)
		return exitErrors
	case warns > 0:
		fmt.Fprintf(stdout, "%d warning(s)\n", warns)
		return exitWarnings
	}
	fmt.Fprintln(stdout, "ok: uwsgi.ini and nginx.conf are valid and agree")
	return exitOK
}

// openProject opens DIR's uwsgi.ini and nginx.conf, with DIR as nginx's
// prefix.
func openProject(dir string) (*confedit.INIDoc, *confedit.NginxDoc, error) {
	ini, ngx := filepath.Join(dir, configgen.FileUWSGIIni), filepath.Join(dir, configgen.FileNginxConf)
	for _, f := range []string{ini, ngx} {
		if _, err := os.Stat(f); err != nil {
			return nil, nil, fmt.Errorf("%s: no %s here; create the configs with: wsgideckd init %s", dir, filepath.Base(f), dir)
		}
	}
	return project.OpenDocs(ini, ngx, dir, nil)
}

// validate runs both validators, and the proxy's compiler when nginx.conf
// has no error (a config real nginx takes that wsgideck's proxy cannot
// run, such as a PCRE-only regex, is an error for wsgideck).
func validate(dir string, id *confedit.INIDoc, nd *confedit.NginxDoc) []confedit.Problem {
	ngx := nd.Validate()
	ps := append(id.Validate(), ngx...)
	if len(confedit.Errors(ngx)) == 0 {
		if _, err := proxy.CompileMain(nd.Config(), proxy.LoadOptions{Prefix: dir}); err != nil {
			ps = append(ps, confedit.Problem{Severity: confedit.Error, File: nd.Path(),
				Msg: "wsgideck's proxy cannot run this config: " + err.Error()})
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Severity < ps[j].Severity })
	return ps
}

func problemText(dir string, p confedit.Problem) string {
	p.File = rel(dir, p.File)
	return p.String()
}

func printFindings(w io.Writer, r *crosscheck.Report) {
	for _, f := range r.Findings {
		fmt.Fprintln(w, f.String())
		for _, fx := range f.Fixes {
			fmt.Fprintf(w, "    fix: %s\n", fx.Summary)
		}
	}
}

// applyFixes runs crosscheck.FixAll and saves both files when they
// validate. ok is false when check should stop with code.
func applyFixes(stdout, stderr io.Writer, dir string, id *confedit.INIDoc, nd *confedit.NginxDoc, opts crosscheck.Options) (code int, ok bool) {
	applied, _, err := crosscheck.FixAll(id, nd, opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd check: %v\n", err)
		return exitErrors, false
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "nothing to fix automatically")
		return 0, true
	}
	for _, a := range applied {
		fmt.Fprintf(stdout, "fixed: %s\n", a)
	}
	for _, d := range []confedit.Document{id, nd} {
		diff, err := d.Diff()
		if err != nil {
			fmt.Fprintf(stderr, "wsgideckd check: %v\n", err)
			return exitErrors, false
		}
		fmt.Fprint(stdout, diff)
	}
	for _, d := range []confedit.Document{id, nd} {
		if !d.Dirty() {
			continue
		}
		if err := d.Save(); err != nil {
			fmt.Fprintf(stderr, "wsgideckd check: not saved: %v\n", err)
			return exitErrors, false
		}
		fmt.Fprintf(stdout, "saved %s (the previous version is in .wsgideck/backups)\n", rel(dir, d.Path()))
	}
	return 0, true
}

// crossCheckDir checks DIR's files, for init's report; nil when they
// cannot be read.
func crossCheckDir(dir string, stderr io.Writer) *crosscheck.Report {
	id, nd, err := openProject(dir)
	if err != nil {
		return nil
	}
	r, err := crosscheck.Check(id, nd, crosscheck.Options{Dir: dir})
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd: %v\n", err)
		return nil
	}
	return r
}

// ---------------------------------------------------------------- export

const exportUsage = `usage: wsgideckd export [DIR] --out OUT [--profile production|local]
          [--server-name NAME]... [--tls-cert FILE --tls-key FILE]
          [--name NAME] [--app-dir /srv/NAME] [--venv PATH] [--pip-uwsgi]

Writes DIR's configs for another place into OUT (created if missing; files
it replaces are kept in OUT/.wsgideck/backups).

--profile production (the default) reads DIR/uwsgi.ini and DIR/nginx.conf as
they are now and writes a bundle for a Debian/Ubuntu server: uwsgi.ini (a
unix socket under /run, master, harakiri, max-requests, one worker per core),
an nginx site file (server_name, static files with expires, gzip, security
headers, and with --tls-cert/--tls-key an HTTPS server and an HTTP->HTTPS
redirect), a systemd unit and a README with the deploy steps in order. Paths
inside DIR move under --app-dir (default /srv/NAME). --server-name is
required (repeat it, or separate names with commas).

--profile local writes the local development configs detection proposes.

Exit status: 0 written, 1 not written (bad input, unreadable configs), 2 usage.`

func runExport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("export", exportUsage, stderr)
	profile := fs.String("profile", string(configgen.Production), "production or local")
	out := fs.String("out", "", "the folder to write the files into (required)")
	var names stringList
	fs.Var(&names, "server-name", "a domain nginx serves (repeatable)")
	cert := fs.String("tls-cert", "", "the TLS certificate on the server")
	key := fs.String("tls-key", "", "the TLS private key on the server")
	name := fs.String("name", "", "the app's name on the server (default: the folder's name)")
	appDir := fs.String("app-dir", "", "the app folder on the server (default /srv/NAME)")
	venv := fs.String("venv", "", "the virtualenv on the server (default: the local one's place under --app-dir)")
	pip := fs.Bool("pip-uwsgi", false, "uWSGI was installed with pip (no plugins = python3)")
	dir, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "wsgideckd export: %v\n", err)
		return exitErrors
	}
	if *out == "" {
		fmt.Fprintln(stderr, "wsgideckd export: --out OUT is required")
		fs.Usage()
		return exitErrors
	}
	dir, _ = filepath.Abs(dir)
	var files configgen.Files
	var notes []string
	switch configgen.Profile(*profile) {
	case configgen.Production:
		files, _, notes, err = project.Export(dir, project.ExportOptions{
			Name: *name, ServerNames: names, TLSCert: *cert, TLSKey: *key,
			AppDir: *appDir, Venv: *venv, PipUWSGI: *pip,
		})
	case configgen.Local:
		var pr *project.Proposal
		if pr, err = project.Propose(dir, project.ProposeOptions{}); err == nil {
			if *name != "" {
				pr.Config.Name = project.Slug(*name)
			}
			if !pr.Chosen {
				err = fmt.Errorf("detection could not choose the app in %s; run wsgideckd init there first", dir)
			} else {
				files, err = configgen.Generate(configgen.Local, pr.Config)
			}
		}
	default:
		fmt.Fprintf(stderr, "wsgideckd export: --profile %q: want production or local\n", *profile)
		return exitErrors
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgideckd export: %v\n", err)
		return exitWarnings
	}
	if err := configgen.WriteDir(*out, files, nil); err != nil {
		fmt.Fprintf(stderr, "wsgideckd export: %v\n", err)
		return exitWarnings
	}
	for _, n := range files.Names() {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, n))
	}
	for _, n := range notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	if configgen.Profile(*profile) == configgen.Production {
		fmt.Fprintf(stdout, "the deploy steps are in %s\n", filepath.Join(*out, configgen.FileReadme))
	}
	return exitOK
}
