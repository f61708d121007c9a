package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/wsgideck/wsgideck/engine/appserver"
	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
	"github.com/wsgideck/wsgideck/engine/proxy"
)

// Report is what checking a project's pair of files found: each file's
// validation problems (errors and warnings; the Info notes about options
// wsgideck ignores are left out), and the cross-tier findings with their
// fixes.
//
// A Report holds the documents it checked. Their Fixes edit those
// documents, and Apply saves them: a fix applied through Apply changes
// the files on disk.
//
// With one of the two files missing, the Report says so as an error
// Problem naming the file, and holds what can be said of the other file
// alone: its own problems, and the checks of its ports and folders with
// their fixes (which then edit that file only). The findings that
// compare the two files are left out.
type Report struct {
	// Dir is the project folder; messages name files relative to it.
	Dir      string
	Problems []confedit.Problem
	Findings []crosscheck.Finding

	ini *confedit.INIDoc
	ngx *confedit.NginxDoc
	// iniMissing and ngxMissing say which document is an empty stand-in
	// for a missing file: never validated or saved.
	iniMissing, ngxMissing bool
	// adjusted is set when the documents were edited for the run (ports
	// moved for this run only): saving them would write those edits.
	adjusted bool
	// guard refuses to save (the project's shared documents have unsaved
	// edits); after runs once the files were written.
	guard func() error
	after func()
}

// HasErrors reports whether anything in the report is an error.
func (r *Report) HasErrors() bool {
	for _, p := range r.Problems {
		if p.Severity == confedit.Error {
			return true
		}
	}
	for _, f := range r.Findings {
		if f.Severity == confedit.Error {
			return true
		}
	}
	return false
}

// Apply applies fix, one of the Fixes of r.Findings, and saves both files
// when they still validate (atomically, keeping the previous versions as
// backups). Nothing is written when a file changed on disk since it was
// checked (*confedit.ConflictError), when the result does not validate
// (*confedit.InvalidError), or when an editor holds unsaved edits of the
// files. Line numbers in the other findings may have moved: check again
// before applying another fix.
func (r *Report) Apply(fix crosscheck.Fix) error {
	if r.ini == nil || r.ngx == nil {
		return errors.New("this report holds no documents to fix")
	}
	if r.adjusted {
		return errors.New("this check ran on files adjusted for the run (ports moved for this run only); fix the files from a fresh check instead")
	}
	if r.guard != nil {
		if err := r.guard(); err != nil {
			return err
		}
	}
	revert := func() {
		r.ini.Revert()
		r.ngx.Revert()
	}
	if err := fix.Apply(); err != nil {
		revert()
		return err
	}
	// A fix of a one-sided report must not need the missing file.
	for _, sd := range []struct {
		missing bool
		doc     confedit.Document
	}{{r.iniMissing, r.ini}, {r.ngxMissing, r.ngx}} {
		if sd.missing && sd.doc.Dirty() {
			revert()
			return fmt.Errorf("this fix also edits %s, which is missing: generate it or put it back, then check again", r.rel(sd.doc.Path()))
		}
	}
	docs := r.present()
	// Validate both before writing either, so that the pair stays
	// consistent on disk.
	for _, d := range docs {
		if errs := confedit.Errors(d.Validate()); len(errs) > 0 {
			revert()
			return &confedit.InvalidError{Path: d.Path(), Problems: errs}
		}
	}
	for _, d := range docs {
		if !d.Dirty() {
			continue
		}
		if err := d.Save(); err != nil {
			return err
		}
	}
	if r.after != nil {
		r.after()
	}
	return nil
}

// present lists the documents of files that are on disk.
func (r *Report) present() []confedit.Document {
	var out []confedit.Document
	if !r.iniMissing {
		out = append(out, r.ini)
	}
	if !r.ngxMissing {
		out = append(out, r.ngx)
	}
	return out
}

// rel names path relative to the project folder when inside it.
func (r *Report) rel(path string) string { return relTo(r.Dir, path) }

func relTo(dir, path string) string {
	if dir == "" {
		return path
	}
	if rel, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return path
}

// problemText is "nginx.conf:12: error: msg" (or "nginx.conf: error: msg"
// for the whole file), as wsgideckd check prints problems.
func problemText(dir string, p confedit.Problem) string {
	p.File = relTo(dir, p.File)
	return p.String()
}

// ConfigError is returned by Start and Reload for a configuration that
// does not validate: nothing was applied. Problems and Findings are what
// stopped the command (errors only, each naming its file and line); Report
// has everything that was found, with the fixes.
type ConfigError struct {
	Problems []confedit.Problem
	Findings []crosscheck.Finding
	Report   *Report
}

func (e *ConfigError) Error() string {
	lines := e.Lines()
	if len(lines) == 0 {
		return "the configuration does not validate"
	}
	msg := lines[0]
	if n := len(lines) - 1; n == 1 {
		msg += " (and 1 more error)"
	} else if n > 1 {
		msg += fmt.Sprintf(" (and %d more errors)", n)
	}
	return msg
}

// Lines returns each error as a line of text, validation problems first
// ("nginx.conf:12: error: unknown directive ..."), then the cross-tier
// findings.
func (e *ConfigError) Lines() []string {
	dir := ""
	if e.Report != nil {
		dir = e.Report.Dir
	}
	var out []string
	for _, p := range e.Problems {
		out = append(out, problemText(dir, p))
	}
	for _, f := range e.Findings {
		out = append(out, f.Message)
	}
	return out
}

// tierOfFile is the tier a file configures.
func (r *Runner) tierOfFile(path string) Tier {
	if filepath.Clean(path) == filepath.Clean(r.ini) {
		return Engine
	}
	return Proxy
}

// tiersOf says which tiers an error is about: a problem is about its
// file's tier; a finding is about both, except a busy port, which is
// about the tier that wants it.
func (r *Runner) findingTier(f crosscheck.Finding) Tier {
	if f.Kind == crosscheck.KindPortBusy && len(f.Locations) > 0 {
		return r.tierOfFile(f.Locations[0].File)
	}
	return Both
}

// plan is a validated configuration, ready to apply.
type plan struct {
	report *Report
	engine appserver.Config
	// proxyCfg is nginx.conf compiled as the user wrote it.
	proxyCfg *proxy.Config
	app      string
}

// load reads both files from disk, applies the run's adjustments, and
// validates them for a command on tiers t, whose files must be there
// (the other tier's file may be missing: see Report). held lists the
// ports the Runner's running servers hold, by tier: they are not busy for
// it.
func (r *Runner) load(ctx context.Context, t Tier, held map[Tier][]int) (*plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pd, err := r.openPair()
	if err != nil {
		return nil, err
	}
	if t.hasEngine() && pd.iniMissing {
		return nil, &MissingConfigError{Tier: Engine, Path: r.ini, Dir: r.opts.Dir}
	}
	if t.hasProxy() && pd.ngxMissing {
		return nil, &MissingConfigError{Tier: Proxy, Path: r.nginx, Dir: r.opts.Dir}
	}
	id, nd := pd.ini, pd.ngx
	adjusted := false
	if r.opts.Adjust != nil {
		if err := r.opts.Adjust(id, nd); err != nil {
			return nil, fmt.Errorf("adjusting the configuration for this run: %w", err)
		}
		adjusted = true
	}
	rep, proxyCfg, err := r.examine(pd, t, held)
	if err != nil {
		return nil, err
	}
	rep.adjusted = adjusted
	cerr := &ConfigError{Report: rep, Problems: confedit.Errors(rep.Problems)}
	for _, f := range rep.Findings {
		if f.Severity == confedit.Error {
			cerr.Findings = append(cerr.Findings, f)
		}
	}
	if len(cerr.Problems) > 0 || len(cerr.Findings) > 0 {
		return nil, cerr
	}

	p := &plan{report: rep, proxyCfg: proxyCfg}
	if pd.iniMissing {
		return p, nil // the proxy alone
	}
	// The engine's config, as the engine reads uwsgi.ini.
	ini, err := id.Parsed()
	if err == nil {
		p.engine, err = appserver.FromINI(ini)
	}
	if err == nil {
		r.localize(&p.engine)
		err = p.engine.Validate()
	}
	if err != nil {
		cerr.Problems = append(cerr.Problems, errorProblem(id.Path(), err))
		return nil, cerr
	}
	p.app = p.engine.Module
	if p.app == "" {
		p.app = p.engine.WSGIFile
	}
	return p, nil
}

// Check reads both files from disk and reports what is wrong with them:
// each file's problems, as uWSGI, nginx -t and wsgideck's proxy read it,
// and the cross-tier findings (ports in use, naming who holds them; the
// pass against the engine's sockets and protocols; static folders), with
// fixes that Report.Apply saves. The ports the Runner's own servers hold
// are not reported busy. A missing file is an error Problem naming it;
// the other file is still checked on its own. Its error is for files that
// cannot be read at all.
func (r *Runner) Check(ctx context.Context) (*Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pd, err := r.openPair()
	if err != nil {
		return nil, err
	}
	rep, _, err := r.examine(pd, Both, r.heldPorts())
	if err != nil {
		return nil, err
	}
	rep.Problems = append(r.missingProblems(pd), rep.Problems...)
	return rep, nil
}

// examine validates the two documents, each on its own and against each
// other, for a command on tiers t (see load). proxyCfg is nginx.conf
// compiled, when it compiles.
func (r *Runner) examine(pd *pairDocs, t Tier, held map[Tier][]int) (rep *Report, proxyCfg *proxy.Config, err error) {
	id, nd := pd.ini, pd.ngx
	rep = &Report{Dir: r.opts.Dir, ini: id, ngx: nd, iniMissing: pd.iniMissing, ngxMissing: pd.ngxMissing}
	if r.fixHooks != nil {
		rep.guard, rep.after = r.fixHooks()
	}
	// Each file on its own, as uWSGI and nginx -t read them.
	var iniProblems, ngxProblems []confedit.Problem
	if !pd.iniMissing {
		iniProblems = id.Validate()
	}
	if !pd.ngxMissing {
		ngxProblems = nd.Validate()
	}
	for _, pr := range append(iniProblems, ngxProblems...) {
		if pr.Severity != confedit.Info {
			rep.Problems = append(rep.Problems, pr)
		}
	}
	if !pd.ngxMissing && len(confedit.Errors(ngxProblems)) == 0 {
		// What nginx accepts, the proxy may still refuse (a PCRE-only
		// regex).
		pc, err := proxy.CompileMain(nd.Config(), proxy.LoadOptions{Prefix: r.opts.Dir})
		if err != nil {
			rep.Problems = append(rep.Problems, compileProblem(nd.Path(), err))
		} else {
			proxyCfg = pc
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Severity < rep.Problems[j].Severity })

	// The two files against each other.
	opts := r.opts.Check
	opts.Dir = r.opts.Dir
	opts.SkipPorts = false
	// Reading the system's socket table to name a port's holder takes
	// seconds; the ports this process holds (this project's, or another
	// of its Deck's) are answered without it.
	owners := opts.PortOwners
	if owners == nil {
		owners = crosscheck.SystemPortOwners
	}
	opts.PortOwners = func(ctx context.Context, port int) []crosscheck.Owner {
		if containsInt(held[Engine], port) || containsInt(held[Proxy], port) || r.holder(port) != "" {
			return []crosscheck.Owner{{PID: int32(pid), Name: selfName()}}
		}
		return owners(ctx, port)
	}
	cr, err := crosscheck.Check(id, nd, opts)
	if err != nil {
		if len(confedit.Errors(rep.Problems)) > 0 {
			return rep, proxyCfg, nil // the problems say it with a line
		}
		return nil, nil, fmt.Errorf("%s: %w", relTo(r.opts.Dir, r.ini), err)
	}
	for _, f := range cr.Findings {
		if pd.oneSided() && !pd.keepOneSided(f) {
			continue // it compares with the missing file
		}
		if f.Kind == crosscheck.KindPortBusy {
			ft := r.findingTier(f)
			if !t.hasTier(ft) || containsInt(held[ft], f.Port) {
				continue // not this command's port, or ours already
			}
			if name := r.holder(f.Port); name != "" {
				f.Message += " (" + name + ")"
			}
		}
		rep.Findings = append(rep.Findings, f)
	}
	return rep, proxyCfg, nil
}

func (t Tier) hasTier(u Tier) bool {
	switch u {
	case Engine:
		return t.hasEngine()
	case Proxy:
		return t.hasProxy()
	}
	return true
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// localize makes the engine's config independent of this process's
// working directory: uWSGI and nginx resolve relative paths against the
// folder they run in, and wsgideck runs each project in its folder, but
// the process runs several projects, so it cannot chdir.
func (r *Runner) localize(c *appserver.Config) {
	dir := r.opts.Dir
	if c.Chdir == "" {
		c.Chdir = dir
	} else if !filepath.IsAbs(c.Chdir) {
		c.Chdir = filepath.Join(dir, c.Chdir)
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Pidfile = abs(c.Pidfile)
	c.LogTo = abs(c.LogTo)
	if c.Home != "" && !filepath.IsAbs(c.Home) {
		c.Home = filepath.Join(c.Chdir, c.Home)
	}
	switch {
	case r.opts.Python != "":
		c.Python = r.opts.Python
	case c.Python == "" && c.Home == "" && r.opts.DefaultPython != "":
		c.Python = r.opts.DefaultPython
	}
}

// whereRe finds nginx's " in FILE:LINE" at the end of a message, and the
// engine's "FILE:LINE: " at its start.
var (
	nginxWhereRe = regexp.MustCompile(`^(.*) in (\S+):(\d+)$`)
	leadWhereRe  = regexp.MustCompile(`^(\S+?):(\d+): (.*)$`)
)

// compileProblem turns the proxy's compile error into a Problem on its
// line.
func compileProblem(path string, err error) confedit.Problem {
	if errors.Is(err, proxy.ErrNoEvents) {
		return confedit.Problem{Severity: confedit.Error, File: path,
			Msg: `no "events" section: nginx refuses a main config without one; add "events {}" at the top level`}
	}
	var d *nginxconf.Diagnostic
	if errors.As(err, &d) && d.File != "" {
		return confedit.Problem{Severity: confedit.Error, File: d.File, Line: d.Line,
			Msg: "wsgideck's proxy cannot run this: " + d.Msg}
	}
	msg := err.Error()
	if m := nginxWhereRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[3])
		return confedit.Problem{Severity: confedit.Error, File: m[2], Line: line,
			Msg: "wsgideck's proxy cannot run this: " + m[1]}
	}
	return confedit.Problem{Severity: confedit.Error, File: path, Msg: "wsgideck's proxy cannot run this config: " + msg}
}

// errorProblem turns an engine error ("uwsgi.ini:4: ..." or a joined list
// of them) into a Problem.
func errorProblem(path string, err error) confedit.Problem {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if m := leadWhereRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		file := m[1]
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(path), file)
		}
		return confedit.Problem{Severity: confedit.Error, File: file, Line: line, Msg: m[3]}
	}
	return confedit.Problem{Severity: confedit.Error, File: path, Msg: msg}
}

// selfName is this program's process name, as the system shows it.
func selfName() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	name := filepath.Base(exe)
	if len(name) > 15 {
		name = name[:15] // the kernel's comm is 15 bytes
	}
	return name
}

// ValidateIni checks text as the content of the project's uwsgi.ini, the
// way Start would (uWSGI's reading, then the engine's), without touching
// the file: for an editor checking what is being typed. The problems are
// every severity's, errors first.
func (r *Runner) ValidateIni(text string) []confedit.Problem {
	d, err := confedit.OpenINI(r.ini, confedit.INIOptions{})
	if err != nil {
		return []confedit.Problem{{Severity: confedit.Error, File: r.ini, Msg: err.Error()}}
	}
	d.SetSource([]byte(text))
	return d.Validate()
}

// ValidateNginx checks text as the content of the project's nginx.conf
// (its includes read from disk) the way Start would: nginx -t's rules,
// then the proxy's compile step, so that a file the editor accepts is one
// the proxy runs.
//
// While nginx.conf is missing (the text is a new one), the text is read in
// its place all the same: the problems name nginx.conf.
func (r *Runner) ValidateNginx(text string) []confedit.Problem {
	path := r.nginx
	if r.missingConfig(Proxy) != nil {
		path = os.DevNull // an empty file that exists, holding the text
	}
	d, err := confedit.OpenNginx(path, confedit.NginxOptions{Prefix: r.opts.Dir})
	if err == nil {
		err = d.SetSource("", []byte(text))
	}
	if err != nil {
		return []confedit.Problem{{Severity: confedit.Error, File: r.nginx, Msg: err.Error()}}
	}
	ps := d.Validate()
	if len(confedit.Errors(ps)) == 0 {
		if _, err := proxy.CompileMain(d.Config(), proxy.LoadOptions{Prefix: r.opts.Dir}); err != nil {
			ps = append([]confedit.Problem{compileProblem(r.nginx, err)}, ps...)
		}
	}
	for i := range ps {
		if ps[i].File == d.Path() {
			ps[i].File = r.nginx
		}
	}
	return ps
}
