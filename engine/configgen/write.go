package configgen

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wsgideck/wsgideck/engine/atomicfile"
)

// WriteDir saves files into dir (created if missing), each atomically and
// keeping the version it replaces, through saver (nil means a zero
// atomicfile.Saver). New files get mode 0644; existing files keep theirs.
func WriteDir(dir string, files Files, saver *atomicfile.Saver) error {
	if saver == nil {
		saver = &atomicfile.Saver{}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("configgen: %w", err)
	}
	for _, name := range files.Names() {
		if name != filepath.Base(name) {
			return fmt.Errorf("configgen: file name %q is not a plain name", name)
		}
		if err := saver.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
