//go:build !unix

package atomicfile

import (
	"io/fs"
	"os"
)

// keepOwner does nothing where files have no POSIX owner.
func keepOwner(*os.File, fs.FileInfo) {}

// canWrite leaves the question to the save itself where there are no
// POSIX permissions to ask about.
func canWrite(string) error { return nil }

// ownerName is unknown where files have no POSIX owner.
func ownerName(fs.FileInfo) string { return "unknown" }
