package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wsgideck/wsgideck/engine/confedit"
	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/crosscheck"
)

// Each tier runs from its own file: the engine from uwsgi.ini, the proxy
// from nginx.conf. A project may have only one of them (the app server
// behind the user's own nginx; a file deleted to be generated again), and
// the tier whose file is there must still start, reload and stop. This
// file holds what makes a missing file a plain, named error of its own
// tier rather than a failure of every command.

// MissingConfigError is a tier's config file that is not on disk: the
// tier cannot start or reload, and the other tier is not concerned. It
// wraps fs.ErrNotExist.
type MissingConfigError struct {
	Tier Tier   // Engine (uwsgi.ini) or Proxy (nginx.conf)
	Path string // absolute
	// Dir is the project folder, for naming the file in messages.
	Dir string
}

func (e *MissingConfigError) Error() string { return relTo(e.Dir, e.Path) + " " + e.what() }

// what is the message without the file's name: "is missing ...".
func (e *MissingConfigError) what() string {
	name := configgen.FileUWSGIIni
	if e.Tier == Proxy {
		name = configgen.FileNginxConf
	}
	return fmt.Sprintf("is missing (deleted or moved?), so the %s cannot run: generate a new %s from the project's settings, or put the file back", e.Tier, name)
}

func (e *MissingConfigError) Unwrap() error { return fs.ErrNotExist }

// missingConfig returns the *MissingConfigError of tier t's file, or nil
// when the file is there (or cannot be looked at: reading it reports
// that).
func (r *Runner) missingConfig(t Tier) *MissingConfigError {
	path := r.ini
	if t == Proxy {
		path = r.nginx
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return &MissingConfigError{Tier: t, Path: path, Dir: r.opts.Dir}
	}
	return nil
}

// presentTiers splits the tiers of a command into those whose file is on
// disk and the errors of those whose file is missing, engine first.
func (r *Runner) presentTiers(eng, px bool) (okEng, okPx bool, missing []*MissingConfigError) {
	okEng, okPx = eng, px
	if eng {
		if m := r.missingConfig(Engine); m != nil {
			okEng, missing = false, append(missing, m)
		}
	}
	if px {
		if m := r.missingConfig(Proxy); m != nil {
			okPx, missing = false, append(missing, m)
		}
	}
	return okEng, okPx, missing
}

// tierOf is the Tier of a command acting on the engine, the proxy, or
// both; ok is false for neither.
func tierOf(eng, px bool) (t Tier, ok bool) {
	switch {
	case eng && px:
		return Both, true
	case eng:
		return Engine, true
	case px:
		return Proxy, true
	}
	return Both, false
}

// missingFailed marks each tier whose file is missing Failed, with the
// error, and logs it.
func (r *Runner) missingFailed(missing []*MissingConfigError, what string) {
	for _, m := range missing {
		src := LogEngine
		if m.Tier == Proxy {
			src = LogProxyError
		}
		r.addLog(LogLine{Source: src, Level: LevelError, Text: "wsgideck: the " + m.Tier.String() + " was " + what + ": " + m.Error()})
		r.setTier(m.Tier, Failed, m.Error())
	}
}

// joinMissing is err joined with the missing files' errors (nil when
// there is neither).
func joinMissing(err error, missing []*MissingConfigError) error {
	if len(missing) == 0 {
		return err
	}
	errs := []error{err}
	for _, m := range missing {
		errs = append(errs, m)
	}
	return errors.Join(errs...)
}

// pairDocs are the project's two files as read for one check. A missing
// file is read as an empty stand-in, so that the file that is there still
// gets its own checks and the checks of its ports (with their fixes); the
// stand-in is never validated, reported on or saved.
type pairDocs struct {
	ini                    *confedit.INIDoc
	ngx                    *confedit.NginxDoc
	iniMissing, ngxMissing bool
}

// openPair reads both files from disk, standing in for a missing one.
func (r *Runner) openPair() (*pairDocs, error) {
	pd := &pairDocs{iniMissing: r.missingConfig(Engine) != nil, ngxMissing: r.missingConfig(Proxy) != nil}
	// A missing uwsgi.ini opens as an empty document: its own stand-in.
	id, err := confedit.OpenINI(r.ini, confedit.INIOptions{})
	if err != nil {
		return nil, err
	}
	pd.ini = id
	path := r.nginx
	if pd.ngxMissing {
		// The NginxDoc reads a file; the null device is an empty one
		// that exists everywhere.
		path = os.DevNull
	}
	nd, err := confedit.OpenNginx(path, confedit.NginxOptions{Prefix: r.opts.Dir})
	if err != nil {
		if pd.ngxMissing {
			return nil, fmt.Errorf("%s: %w", relTo(r.opts.Dir, r.nginx), fs.ErrNotExist)
		}
		return nil, err
	}
	pd.ngx = nd
	return pd, nil
}

// oneSided reports whether a file of the pair is missing.
func (pd *pairDocs) oneSided() bool { return pd.iniMissing || pd.ngxMissing }

// missingProblems are the Problems naming each missing file, for a Report.
func (r *Runner) missingProblems(pd *pairDocs) []confedit.Problem {
	var out []confedit.Problem
	for _, m := range []struct {
		gone bool
		tier Tier
		path string
	}{{pd.iniMissing, Engine, r.ini}, {pd.ngxMissing, Proxy, r.nginx}} {
		if m.gone {
			e := &MissingConfigError{Tier: m.tier, Path: m.path, Dir: r.opts.Dir}
			out = append(out, confedit.Problem{Severity: confedit.Error, File: m.path, Msg: "the file " + e.what()})
		}
	}
	return out
}

// crossTierKinds are the findings that compare the two files: with one of
// them missing they say nothing true (every pass "reaches no socket").
var crossTierKinds = map[crosscheck.Kind]bool{
	crosscheck.KindProtocol:   true,
	crosscheck.KindAddress:    true,
	crosscheck.KindNoSocket:   true,
	crosscheck.KindNoPass:     true,
	crosscheck.KindParams:     true,
	crosscheck.KindBufferSize: true,
}

// keepOneSided reports whether a finding of a check run against a
// stand-in is about the file that is there alone.
func (pd *pairDocs) keepOneSided(f crosscheck.Finding) bool {
	if crossTierKinds[f.Kind] {
		return false
	}
	for _, l := range f.Locations {
		p := filepath.Clean(l.File)
		if pd.iniMissing && p == filepath.Clean(pd.ini.Path()) || pd.ngxMissing && p == filepath.Clean(pd.ngx.Path()) {
			return false
		}
	}
	return true
}
