package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
	"github.com/wsgideck/wsgideck/engine/configgen"
)

// ListFile is the project list's name in the config folder.
const ListFile = "projects.json"

// Store is the user's list of projects, the demo first. Its methods are
// safe for concurrent use.
type Store struct {
	configDir, dataDir string
	saver              *atomicfile.Saver

	mu   sync.Mutex
	list []Project // the demo first
}

// StoreOptions configure OpenStore.
type StoreOptions struct {
	// ConfigDir holds projects.json; DataDir holds the demo's working
	// copy. Empty means DefaultDirs.
	ConfigDir, DataDir string
	// Saver writes projects.json and the demo's files; nil means a zero
	// atomicfile.Saver.
	Saver *atomicfile.Saver
}

// OpenStore reads the project list (none yet is an empty list) and makes
// sure the demo's files are in place. A list that cannot be read is an
// error rather than an empty list, so that nothing overwrites it.
func OpenStore(opts StoreOptions) (*Store, error) {
	if opts.ConfigDir == "" || opts.DataDir == "" {
		c, d, err := DefaultDirs()
		if err != nil {
			return nil, fmt.Errorf("project: no folder for wsgideck's settings: %w", err)
		}
		if opts.ConfigDir == "" {
			opts.ConfigDir = c
		}
		if opts.DataDir == "" {
			opts.DataDir = d
		}
	}
	s := &Store{configDir: opts.ConfigDir, dataDir: opts.DataDir, saver: opts.Saver}
	if s.saver == nil {
		s.saver = &atomicfile.Saver{}
	}
	list, err := s.read()
	if err != nil {
		return nil, err
	}
	demo := s.demoProject()
	for _, p := range list {
		if p.ID == DemoID {
			// Only the settings are the user's; the files live where
			// this Store keeps the demo.
			demo.Name, demo.Python = p.Name, p.Python
			if p.Config.Name != "" {
				demo.Config = p.Config
			}
		}
	}
	s.list = []Project{demo}
	for _, p := range list {
		if p.ID != DemoID {
			s.list = append(s.list, p)
		}
	}
	if err := s.ensureDemo(); err != nil {
		return nil, err
	}
	return s, nil
}

// ListPath is the project list's file.
func (s *Store) ListPath() string { return filepath.Join(s.configDir, ListFile) }

func (s *Store) read() ([]Project, error) {
	data, err := os.ReadFile(s.ListPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	var list []Project
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&list); err != nil {
		line := 1 + bytes.Count(data[:min(int(dec.InputOffset()), len(data))], []byte("\n"))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line = 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		}
		return nil, fmt.Errorf("project: %s:%d: %v; fix it, restore a previous version from %s, or remove it to start a new list",
			s.ListPath(), line, err, atomicfile.BackupDirFor(s.ListPath()))
	}
	for i, p := range list {
		if p.ID == "" || p.Dir == "" {
			return nil, fmt.Errorf("project: %s: entry %d has no id or dir; fix or remove it", s.ListPath(), i+1)
		}
	}
	return list, nil
}

// save writes the list. Callers hold mu.
func (s *Store) save() error {
	data, err := json.MarshalIndent(s.list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.configDir, 0o755); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return s.saver.WriteFile(s.ListPath(), append(data, '\n'), 0o644)
}

// Projects returns the projects, the demo first.
func (s *Store) Projects() []Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list)
}

// Get returns the project with the given ID.
func (s *Store) Get(id string) (Project, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.index(id); i >= 0 {
		return s.list[i], true
	}
	return Project{}, false
}

func (s *Store) index(id string) int {
	return slices.IndexFunc(s.list, func(p Project) bool { return p.ID == id })
}

// check validates p as an entry of the list, other than the entry at skip.
func (s *Store) check(p Project, skip int) error {
	if err := checkName(p.Name); err != nil {
		return err
	}
	for i, q := range s.list {
		if i == skip {
			continue
		}
		if strings.EqualFold(q.Name, p.Name) {
			return fmt.Errorf("a project is already called %q; choose another name", q.Name)
		}
		if q.Dir == p.Dir && p.ID != DemoID {
			return fmt.Errorf("%s is already the project %q", p.Dir, q.Name)
		}
	}
	return nil
}

// Add registers a project whose configs already exist (Create writes
// them first). ID and file paths are filled when empty; the folder must
// exist.
func (s *Store) Add(p Project) (Project, error) {
	p, err := p.withDefaults()
	if err != nil {
		return p, err
	}
	if fi, err := os.Stat(p.Dir); err != nil || !fi.IsDir() {
		return p, fmt.Errorf("project: %s is not a folder", p.Dir)
	}
	if p.Name == "" {
		p.Name = filepath.Base(p.Dir)
	}
	if p.ID == "" {
		p.ID = newID(p.Name, p.Dir)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == DemoID || s.index(p.ID) >= 0 {
		return p, fmt.Errorf("project: the ID %q is taken", p.ID)
	}
	if err := s.check(p, -1); err != nil {
		return p, fmt.Errorf("project: %w", err)
	}
	s.list = append(s.list, p)
	if err := s.save(); err != nil {
		s.list = s.list[:len(s.list)-1]
		return p, err
	}
	return p, nil
}

// Create writes the local configs of a Proposal (see Init) and adds the
// project under name ("" means the folder's name).
func (s *Store) Create(pr *Proposal, name string, opts InitOptions) (Project, *InitResult, error) {
	if name == "" {
		name = filepath.Base(pr.Dir)
	}
	s.mu.Lock()
	err := s.check(Project{Name: name, Dir: pr.Dir}, -1)
	s.mu.Unlock()
	if err != nil {
		return Project{}, nil, fmt.Errorf("project: %w", err)
	}
	res, err := pr.Init(opts)
	if err != nil {
		return Project{}, nil, err
	}
	p, err := s.Add(Project{Name: name, Dir: pr.Dir, Python: pr.Python, Config: res.Config})
	return p, res, err
}

// Remove takes a project off the list. Its folder and files stay.
func (s *Store) Remove(id string) error {
	if id == DemoID {
		return errors.New("project: the demo project is built in and cannot be removed")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return fmt.Errorf("project: no project %q", id)
	}
	old := slices.Clone(s.list)
	s.list = slices.Delete(s.list, i, i+1)
	if err := s.save(); err != nil {
		s.list = old
		return err
	}
	return nil
}

// Rename changes a project's display name; its ID stays.
func (s *Store) Rename(id, name string) error {
	return s.Update(id, func(p *Project) error {
		p.Name = name
		return nil
	})
}

// Update changes a project's settings through fn and saves the list; an
// error from fn or an invalid result changes nothing. The ID, and the
// demo's folder, cannot change.
func (s *Store) Update(id string, fn func(p *Project) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return fmt.Errorf("project: no project %q", id)
	}
	p := s.list[i]
	p.Config.PythonPath = slices.Clone(p.Config.PythonPath)
	p.Config.Env = slices.Clone(p.Config.Env)
	p.Config.Static = slices.Clone(p.Config.Static)
	if err := fn(&p); err != nil {
		return err
	}
	if p.ID != id {
		return errors.New("project: a project's ID cannot change")
	}
	if id == DemoID {
		d := s.demoProject()
		p.Dir, p.Ini, p.Nginx = d.Dir, d.Ini, d.Nginx
	}
	p, err := p.withDefaults()
	if err != nil {
		return err
	}
	if err := s.check(p, i); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	old := s.list[i]
	s.list[i] = p
	if err := s.save(); err != nil {
		s.list[i] = old
		return err
	}
	return nil
}

// demoProject is the demo's entry before the user changes anything.
func (s *Store) demoProject() Project {
	dir := filepath.Join(s.dataDir, "demo")
	return Project{
		ID: DemoID, Name: "Demo", Dir: dir,
		Ini:    filepath.Join(dir, configgen.FileUWSGIIni),
		Nginx:  filepath.Join(dir, configgen.FileNginxConf),
		Config: configgen.DemoConfig(),
	}
}
