package backend

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/control"
	"github.com/wsgideck/wsgideck/engine/detect"
	"github.com/wsgideck/wsgideck/engine/project"
	"github.com/wsgideck/wsgideck/ui/deck"
)

// DemoID is the built-in demo project's id.
const DemoID = project.DemoID

// Logf is a printf-style logger.
type Logf func(format string, args ...any)

// Options configure a Backend.
type Options struct {
	// ConfigDir holds projects.json and DataDir the demo's working copy;
	// empty means engine/project's defaults (the user's config and data
	// folders).
	ConfigDir, DataDir string
	// Python is the interpreter for projects whose uwsgi.ini names none
	// (no home or virtualenv); empty means python3 on PATH.
	Python string
	// SampleInterval is the metrics period; 0 means one second.
	SampleInterval time.Duration
	// LogLines is how many log lines each project keeps; 0 means
	// control.DefaultLogLines.
	LogLines int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf receives problems that concern no command (a folder that
	// cannot be watched); nil discards them.
	Logf Logf
}

// Backend is deck.Backend over a control.Deck.
type Backend struct {
	deck *control.Deck

	mu       sync.Mutex
	projects map[string]*projectAdapter
}

var _ deck.Backend = (*Backend)(nil)

// New opens the project list (putting the demo's files in place on first
// use) and returns a Backend with nothing running.
func New(opts Options) (*Backend, error) {
	d, err := control.OpenDeck(control.DeckOptions{
		Store:          project.StoreOptions{ConfigDir: opts.ConfigDir, DataDir: opts.DataDir},
		Python:         opts.Python,
		LogLines:       opts.LogLines,
		SampleInterval: opts.SampleInterval,
		Now:            opts.Now,
		Logf:           control.Logf(opts.Logf),
	})
	if err != nil {
		return nil, err
	}
	return &Backend{deck: d, projects: map[string]*projectAdapter{}}, nil
}

func info(p project.Project) deck.ProjectInfo {
	return deck.ProjectInfo{ID: p.ID, Name: p.Name, Dir: p.Dir, Builtin: p.Builtin(), IniPath: p.Ini, NginxPath: p.Nginx}
}

func (b *Backend) Projects() []deck.ProjectInfo {
	var out []deck.ProjectInfo
	for _, p := range b.deck.Projects() {
		out = append(out, info(p))
	}
	return out
}

// Project returns the adapter of project id, creating it on first use.
func (b *Backend) Project(id string) deck.Project {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.projects[id]; ok {
		return a
	}
	p, ok := b.deck.Project(id)
	if !ok {
		return nil
	}
	r, err := b.deck.Runner(id)
	if err != nil {
		return nil
	}
	a := &projectAdapter{b: b, info: info(p), r: r}
	b.projects[id] = a
	return a
}

func (b *Backend) Detect(dir string) (*detect.Result, error) { return detect.Detect(dir) }

func (b *Backend) FreePorts() (int, int) { return b.deck.FreePorts() }

// AddProject proposes a configuration for the folder (engine/project),
// applies the user's corrections, and creates the project: the local
// configs are written unless the folder's own are used.
func (b *Backend) AddProject(np deck.NewProject) (deck.ProjectInfo, error) {
	dir, err := filepath.Abs(np.Dir)
	if err != nil {
		return deck.ProjectInfo{}, err
	}
	for _, p := range b.deck.Projects() {
		if filepath.Clean(p.Dir) == dir {
			return deck.ProjectInfo{}, fmt.Errorf("%s is already a project (%s)", dir, p.Name)
		}
	}
	pr, err := b.deck.Propose(dir)
	if err != nil {
		return deck.ProjectInfo{}, err
	}
	if np.UseExisting {
		// The folder's own files are kept as they are: the project's
		// settings are what the Proposal read from them, not the dialog's
		// suggestions for generated ones.
		pr.Config.Framework = np.Framework
		p, err := b.deck.Add(project.Project{Name: strings.TrimSpace(np.Name), Dir: dir, Python: pr.Python, Config: pr.Config})
		if err != nil {
			return deck.ProjectInfo{}, err
		}
		return info(p), nil
	}
	if np.App.Module != "" {
		spec := np.App.Module
		if c := np.App.Callable; c != "" {
			spec += ":" + c
			if np.App.Factory {
				spec += "()"
			}
		}
		if err := pr.ChooseModule(spec); err != nil {
			return deck.ProjectInfo{}, err
		}
	}
	c := &pr.Config
	c.Framework = np.Framework
	c.Venv = np.Venv
	c.Env = np.Env
	c.Static = np.Static
	c.PythonPath = nil
	if np.PythonPath != "" {
		c.PythonPath = []string{np.PythonPath}
	}
	if np.ProxyPort > 0 {
		c.ProxyPort = np.ProxyPort
	}
	if np.EnginePort > 0 {
		c.AppPort = np.EnginePort
	}
	// The dialog makes the same check first, worded with its fields; this
	// one keeps any other caller from writing configs for an app that is
	// not there.
	if err := configgen.CheckLocal(dir, *c); err != nil {
		return deck.ProjectInfo{}, err
	}
	name := strings.TrimSpace(np.Name)
	p, _, err := b.deck.Create(pr, name, project.InitOptions{Overwrite: true})
	if err != nil {
		return deck.ProjectInfo{}, err
	}
	return info(p), nil
}

func (b *Backend) RemoveProject(ctx context.Context, id string) error {
	if err := b.deck.Remove(ctx, id); err != nil {
		return err
	}
	b.mu.Lock()
	delete(b.projects, id)
	b.mu.Unlock()
	return nil
}

// StopAll stops every project and returns when every worker is gone.
func (b *Backend) StopAll(ctx context.Context) error { return b.deck.StopAll(ctx) }

// Close stops everything and stops watching the files; the app calls it
// on quit.
func (b *Backend) Close(ctx context.Context) error { return b.deck.Close(ctx) }

func (b *Backend) CheckExport(ctx context.Context, files configgen.Files) []deck.ExportCheck {
	var out []deck.ExportCheck
	for _, c := range b.deck.CheckExport(ctx, files) {
		out = append(out, deck.ExportCheck{Tool: c.Tool, File: c.File, Installed: c.Installed, OK: c.OK, Output: c.Output})
	}
	return out
}
