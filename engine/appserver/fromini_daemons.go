package appserver

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// daemonOptions are the options that attach a daemon, each read as uWSGI
// 2.0.21's uwsgi_opt_add_daemon / uwsgi_opt_add_daemon2 read it.
var daemonOptions = map[string]bool{
	"attach-daemon": true, "attach-control-daemon": true,
	"smart-attach-daemon": true, "smart-attach-daemon2": true,
	"attach-daemon2": true,
}

// daemon2Keys are attach-daemon2's keys (aliases resolved), with what
// this engine does with each; the ones it does not act on get a warning.
var daemon2Keys = map[string]string{
	"command": "cmd", "cmd": "cmd", "exec": "cmd",
	"freq": "freq", "pidfile": "pidfile", "control": "control",
	"daemonize": "daemonize", "daemon": "daemonize", "touch": "touch",
	"stopsignal": "stopsignal", "stop_signal": "stopsignal",
	"reloadsignal": "reloadsignal", "reload_signal": "reloadsignal",
	"stdin": "stdin", "chdir": "chdir", "max_throttle": "max_throttle",
	// Read by uWSGI, not acted on here (daemon2Ignored says why).
	"uid": "uid", "gid": "gid", "ns_pid": "ns_pid", "notifypid": "notifypid", "legion": "legion",
}

var daemon2Ignored = map[string]string{
	"uid":       "the daemon runs as the current user (wsgideck never changes user)",
	"gid":       "the daemon runs with the current group (wsgideck never changes user)",
	"ns_pid":    "no PID namespace is created",
	"notifypid": "a smart daemon is stopped with its stopsignal when the engine stops, and left running on a reload",
	"legion":    "there are no legions (a uWSGI cluster feature)",
}

// daemonsFromINI reads the daemon options into c, in the order written
// (uWSGI keeps them in one list in that order).
func daemonsFromINI(ini *uwsgiini.Config, c *Config) error {
	c.DaemonsHonourStdin = ini.Bool("daemons-honour-stdin")
	for _, o := range ini.Options {
		if !daemonOptions[o.Key] {
			continue
		}
		d, _, err := parseDaemonOption(o)
		if err != nil {
			return err
		}
		c.Daemons = append(c.Daemons, d)
	}
	return nil
}

// daemonWarnings lists what the daemon options ask for that this engine
// does not do (attach-daemon2's uid, gid, ...), each with file and line.
func daemonWarnings(ini *uwsgiini.Config) []uwsgiini.Warning {
	var out []uwsgiini.Warning
	for _, o := range ini.Options {
		if !daemonOptions[o.Key] {
			continue
		}
		_, ignored, err := parseDaemonOption(o)
		if err != nil {
			continue // FromINI reports it
		}
		for _, k := range ignored {
			why, known := daemon2Ignored[daemon2Keys[k]]
			if !known {
				why = "uWSGI knows no such key and skips it too (keys: cmd, freq, pidfile, daemonize, control, touch, stopsignal, reloadsignal, stdin, chdir, max_throttle)"
			}
			out = append(out, uwsgiini.Warning{File: o.File, Line: o.Line, Key: o.Key,
				Msg: fmt.Sprintf("%s key %s is ignored: %s", o.Raw, k, why)})
		}
	}
	return out
}

// parseDaemonOption reads one daemon option; ignored lists the
// attach-daemon2 keys that are read but not acted on.
func parseDaemonOption(o uwsgiini.Option) (d Daemon, ignored []string, err error) {
	d = Daemon{Option: o.Raw, Command: o.Value}
	if o.File != "" {
		d.Where = o.Where()
	}
	switch o.Key {
	case "attach-daemon2":
		return parseDaemon2(o)
	case "attach-control-daemon":
		d.Control = true
	case "smart-attach-daemon", "smart-attach-daemon2":
		// "PIDFILE[,FREQ] COMMAND"
		pidfile, command, ok := strings.Cut(o.Value, " ")
		if !ok || pidfile == "" || strings.TrimSpace(command) == "" {
			return d, nil, optionError(o, "want a pidfile, a space, then the command, e.g. "+o.Raw+" = /tmp/celery.pid celery -A proj worker --pidfile=/tmp/celery.pid (uWSGI exits: \"invalid smart-attach-daemon syntax\")")
		}
		if p, freq, ok := strings.Cut(pidfile, ","); ok {
			pidfile = p
			d.Freq = atoi(freq)
		}
		if pidfile == "" {
			return d, nil, optionError(o, "no pidfile before the comma: want PIDFILE[,FREQ] COMMAND")
		}
		d.Pidfile, d.Command = pidfile, command
		d.Daemonize = o.Key == "smart-attach-daemon2"
	}
	if strings.TrimSpace(d.Command) == "" {
		return d, nil, optionError(o, "no command: give the command line to run, e.g. "+o.Raw+" = celery -A proj worker")
	}
	return d, nil, nil
}

// parseDaemon2 reads attach-daemon2's key=value list, as uWSGI's
// uwsgi_kvlist_parse splits it: on commas not escaped with a backslash,
// each item at its first "="; unknown keys are skipped, as uWSGI skips
// them (a warning here, since a typo would otherwise go unnoticed).
func parseDaemon2(o uwsgiini.Option) (d Daemon, ignored []string, err error) {
	d = Daemon{Option: o.Raw}
	if o.File != "" {
		d.Where = o.Where()
	}
	seen := map[string]string{}
	for _, item := range splitEscaped(o.Value, ',') {
		if item == "" {
			continue
		}
		k, v, _ := strings.Cut(item, "=")
		name, known := daemon2Keys[k]
		if !known {
			ignored = append(ignored, k)
			continue
		}
		seen[name] = v
		if _, ign := daemon2Ignored[name]; ign {
			ignored = append(ignored, k)
		}
	}
	d.Command = seen["cmd"]
	if strings.TrimSpace(d.Command) == "" {
		return d, nil, optionError(o, "no command: add cmd=COMMAND (uWSGI exits: \"you need to specify a 'command' key\")")
	}
	if v, ok := seen["freq"]; ok {
		d.Freq = atoi(v)
	}
	d.Pidfile = seen["pidfile"]
	_, d.Daemonize = seen["daemonize"]
	_, d.Control = seen["control"]
	_, d.Stdin = seen["stdin"]
	d.Chdir = seen["chdir"]
	if v, ok := seen["touch"]; ok {
		for _, p := range strings.Split(v, ";") {
			if p = strings.TrimSpace(p); p != "" {
				d.Touch = append(d.Touch, p)
			}
		}
	}
	for _, sig := range []struct {
		key string
		dst *syscall.Signal
	}{{"stopsignal", &d.StopSignal}, {"reloadsignal", &d.ReloadSignal}} {
		v, ok := seen[sig.key]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 64 {
			return d, nil, optionError(o, fmt.Sprintf("%s=%s: want a signal number, e.g. %s=15 (SIGTERM)", sig.key, v, sig.key))
		}
		*sig.dst = syscall.Signal(n)
	}
	if v, ok := seen["max_throttle"]; ok {
		d.MaxThrottle = time.Duration(atoi(v)) * time.Second
	}
	if d.Daemonize && d.Pidfile == "" {
		return d, nil, optionError(o, "daemonize needs pidfile=PATH: the master writes the daemon's pid there")
	}
	return d, ignored, nil
}

// splitEscaped splits s on sep, where a backslash makes the next byte
// literal.
func splitEscaped(s string, sep byte) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == sep:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(out, cur.String())
}
