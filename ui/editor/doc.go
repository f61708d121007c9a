// Package editor provides Editor, the source view of wsgideck's config
// tabs: a monospace, multi-line text entry with a line-number gutter, whose
// problems (from a validator the caller supplies) are marked on their lines
// while the user types.
//
// Fyne's Entry has no per-span styling, so the editor is a stack: the gutter
// beside the Entry, and over the Entry translucent bars on the problem lines.
// The Entry does not scroll itself; one outer Scroll moves the gutter, the
// bars and the text together, and follows the cursor. Both the gutter and the
// bars place their rows with the Entry's own arithmetic (inner padding, then
// one text height plus the theme's line spacing per row), so they line up at
// any scale and text size.
//
// Validation is debounced: each change restarts a timer (Debounce, 300 ms by
// default), and when it fires the Validate func runs on its own goroutine,
// never on the UI goroutine, so a slow parse never stalls typing. Its result
// is applied through fyne.Do, and only if the text has not changed since.
package editor
