// Package backend is the engine side of the desktop window: it implements
// deck.Backend, the window's consumer-side interfaces, over engine/control,
// the one API between front ends and the engine.
//
// The adapter is thin: control.Deck holds the project list (engine/project),
// one control.Runner per project (the engine and the proxy, inside this
// process), the shared documents (engine/confedit, watched by
// engine/watch), the cross-tier check with its fixes (engine/crosscheck) and
// the export check with the real programs. This package converts between
// control's values and the window's, and adds what is the window's own: the
// form-level edits of the documents (Set, SetDirective) that put a cleared
// and retyped option back where it was.
//
// Every project runs inside this process: the engine's master is a set of
// goroutines with Python worker processes as children, and the proxy is a
// set of goroutines. StopAll (and Close) stop them all, so quitting the app
// leaves no process behind.
package backend
