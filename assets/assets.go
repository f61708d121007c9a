// Package assets embeds the files wsgideck ships inside its binaries: the
// application icon, the Python worker program the engine runs, and the
// built-in demo project.
package assets

import _ "embed"

// Icon is the application icon (256x256 PNG).
//
//go:embed icon.png
var Icon []byte
