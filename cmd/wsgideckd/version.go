package main

import (
	"fmt"
	"io"
)

// Version is the wsgideck release; set with -ldflags "-X main.Version=…".
var Version = "0.1.0"

func init() {
	register("version", "print the wsgideck version", func(args []string, stdout, stderr io.Writer) int {
		fmt.Fprintf(stdout, "wsgideckd %s\n", Version)
		return 0
	})
}
