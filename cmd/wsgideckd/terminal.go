package main

import "os"

// onTerminal reports whether the log goes to a terminal. There SIGTTIN and
// SIGTTOU keep their job-control meaning (they stop a background process
// that reads or, with stty tostop, writes the terminal): caught, a write
// from the background would raise SIGTTOU again on every retry.
func onTerminal() bool {
	for _, f := range []*os.File{os.Stdout, os.Stderr} {
		if isTerminal(f) {
			return true
		}
	}
	return false
}
