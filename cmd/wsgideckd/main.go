// Command wsgideckd is the headless wsgideck: the same engine and proxy as
// the desktop app, with no display. It builds with CGO_ENABLED=0.
//
//	wsgideckd uwsgi [--ini] FILE[:section] [--option value ...]
//	wsgideckd nginx -c FILE [-t] [-p PREFIX] [-g 'directives;']
//	wsgideckd init|check|up|export [DIR] ...
//
// Each subcommand lives in its own file and registers itself in init, so
// the command table is the only thing the files share.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// subcommand is one verb of wsgideckd. run gets the arguments after the verb
// and returns the process exit code.
type subcommand struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var subcommands = map[string]subcommand{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	if _, dup := subcommands[name]; dup {
		panic("wsgideckd: subcommand registered twice: " + name)
	}
	subcommands[name] = subcommand{summary: summary, run: run}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: wsgideckd COMMAND [ARGS]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, subcommands[n].summary)
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "wsgideckd: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run(args[1:], stdout, stderr)
}
