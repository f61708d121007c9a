package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wsgideck/wsgideck/assets"
)

// Demo returns the demo project, first putting back any of its files
// that went missing.
func (s *Store) Demo() (Project, error) {
	if err := s.ensureDemo(); err != nil {
		return Project{}, err
	}
	p, _ := s.Get(DemoID)
	return p, nil
}

// ensureDemo copies the demo's files that are missing from its folder.
// Existing files are the user's and stay as they are.
func (s *Store) ensureDemo() error {
	return s.copyDemo(false)
}

// ResetDemo puts the shipped demo files back, replacing the user's edits
// (each replaced file is kept in .wsgideck/backups), and resets its
// settings.
func (s *Store) ResetDemo() error {
	if err := s.copyDemo(true); err != nil {
		return err
	}
	return s.Update(DemoID, func(p *Project) error {
		d := s.demoProject()
		p.Name, p.Python, p.Config = d.Name, "", d.Config
		return nil
	})
}

func (s *Store) copyDemo(replace bool) error {
	dir := s.demoProject().Dir
	return fs.WalkDir(assets.Demo, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("project: create the demo project: %w", err)
			}
			return nil
		}
		want, err := fs.ReadFile(assets.Demo, name)
		if err != nil {
			return err
		}
		have, err := os.ReadFile(target)
		switch {
		case err == nil && (!replace || bytes.Equal(have, want)):
			return nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("project: the demo project: %w", err)
		}
		if err := s.saver.WriteFile(target, want, 0o644); err != nil {
			return fmt.Errorf("project: create the demo project: %w", err)
		}
		return nil
	})
}
