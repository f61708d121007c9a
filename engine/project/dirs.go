package project

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// AppDirName is wsgideck's folder inside the user's config and data
// folders.
const AppDirName = "wsgideck"

// DefaultDirs returns where a Store keeps its files: the project list in
// os.UserConfigDir()/wsgideck, the demo project in the user's data folder
// (see UserDataDir)/wsgideck.
func DefaultDirs() (configDir, dataDir string, err error) {
	c, err := os.UserConfigDir()
	if err != nil {
		return "", "", err
	}
	d, err := UserDataDir()
	if err != nil {
		return "", "", err
	}
	return filepath.Join(c, AppDirName), filepath.Join(d, AppDirName), nil
}

// UserDataDir is the folder for the user's application data, which Go's
// standard library does not name: $XDG_DATA_HOME or ~/.local/share on
// Linux and the BSDs, ~/Library/Application Support on macOS,
// %LocalAppData% on Windows.
func UserDataDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return "", errors.New("%LocalAppData% is not set")
	case "darwin", "ios":
		h, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, "Library", "Application Support"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, ".local", "share"), nil
}
