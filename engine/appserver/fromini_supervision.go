package appserver

import (
	"fmt"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// supervisionFromINI reads the supervision, reloading, cheaper and stats
// options into c. fail builds an error naming the option's file and line.
func supervisionFromINI(ini *uwsgiini.Config, c *Config, fail func(key, format string, args ...any) error) error {
	var err error
	nonNeg := func(key string) (int, error) {
		n, err := ini.Int(key, 0)
		if err != nil {
			return 0, err
		}
		if n < 0 {
			return 0, fail(key, "%d: want 0 or more", n)
		}
		return n, nil
	}
	seconds := func(key string) (time.Duration, error) {
		n, err := nonNeg(key)
		return time.Duration(n) * time.Second, err
	}
	mb := func(key string) (int64, error) { return ini.MB(key, 0) }

	if c.Harakiri, err = seconds("harakiri"); err != nil {
		return err
	}
	c.HarakiriVerbose = ini.Bool("harakiri-verbose")
	n, err := nonNeg("max-requests")
	if err != nil {
		return err
	}
	c.MaxRequests = int64(n)
	if n, err = nonNeg("max-requests-delta"); err != nil {
		return err
	}
	c.MaxRequestsDelta = int64(n)
	if _, set := ini.Lookup("min-worker-lifetime"); set {
		if c.MinWorkerLifetime, err = seconds("min-worker-lifetime"); err != nil {
			return err
		}
		if c.MinWorkerLifetime == 0 {
			c.MinWorkerLifetime = NoMinWorkerLifetime
		}
	}
	if c.MaxWorkerLifetime, err = seconds("max-worker-lifetime"); err != nil {
		return err
	}
	for _, m := range []struct {
		key string
		dst *int64
	}{
		{"reload-on-rss", &c.ReloadOnRSS}, {"reload-on-as", &c.ReloadOnAS},
		{"evil-reload-on-rss", &c.EvilReloadOnRSS}, {"evil-reload-on-as", &c.EvilReloadOnAS},
		{"limit-as", &c.LimitAS},
	} {
		if *m.dst, err = mb(m.key); err != nil {
			return err
		}
	}
	if c.LimitAS > 0 && c.LimitAS < 32<<20 {
		return fail("limit-as", "%d MB is too small for a Python interpreter: give it at least 32 MB (64 or more for a real app)", c.LimitAS>>20)
	}
	c.MemoryReport = ini.Bool("memory-report")

	c.TouchReload = ini.All("touch-reload")
	c.TouchChainReload = ini.All("touch-chain-reload")
	c.TouchWorkersReload = ini.All("touch-workers-reload")
	c.FSReload = ini.All("fs-reload")
	if c.PyAutoreload, err = seconds("py-autoreload"); err != nil {
		return err
	}
	c.DieOnTerm = ini.Bool("die-on-term")
	c.MasterFIFO = ini.All("master-fifo")
	if len(c.MasterFIFO) > 10 {
		return fail("master-fifo", "%d FIFOs: at most 10 (the commands 0-9 select one)", len(c.MasterFIFO))
	}

	if c.Cheaper, err = nonNeg("cheaper"); err != nil {
		return err
	}
	if c.CheaperInitial, err = nonNeg("cheaper-initial"); err != nil {
		return err
	}
	if c.CheaperStep, err = nonNeg("cheaper-step"); err != nil {
		return err
	}
	if c.CheaperOverload, err = nonNeg("cheaper-overload"); err != nil {
		return err
	}
	if err := cheaperAlgoFromINI(ini, c, nonNeg, fail); err != nil {
		return err
	}
	if c.Cheaper > 0 {
		procs, _ := ini.Int("processes", 1)
		if c.Cheaper >= procs {
			return fail("cheaper", "%d must be lower than processes (%d): cheaper is the least number of workers, processes the most", c.Cheaper, procs)
		}
		if c.CheaperInitial > procs {
			return fail("cheaper-initial", "%d is more than processes (%d)", c.CheaperInitial, procs)
		}
	}
	if c.CheckInterval, err = seconds("check-interval"); err != nil {
		return err
	}

	c.Stats, _ = ini.Get("stats")
	// stats-http and stats-minified are flags (uWSGI's uwsgi_opt_true);
	// without stats they change nothing, as in uWSGI.
	c.StatsHTTP = ini.Bool("stats-http")
	c.StatsMinified = ini.Bool("stats-minified")
	c.StatsNoCores = ini.Bool("stats-no-cores")
	return nil
}

// cheaperAlgoFromINI reads cheaper-algo and the busyness algorithm's
// options (uWSGI's cheaper_busyness plugin).
func cheaperAlgoFromINI(ini *uwsgiini.Config, c *Config, nonNeg func(string) (int, error), fail func(key, format string, args ...any) error) error {
	if o, ok := ini.Lookup("cheaper-algo"); ok {
		switch algo := strings.TrimSpace(o.Value); algo {
		case CheaperAlgoSpare, CheaperAlgoBusyness, CheaperAlgoBacklog, CheaperAlgoManual:
			c.CheaperAlgo = algo
		case "backlog2", "spare2":
			// Real algorithms this engine lacks (Pending warns): uWSGI
			// 2.0.21 itself runs spare when it does not have them.
			c.CheaperAlgo = CheaperAlgoSpare
		default:
			hint := cheaperAlgoHint
			if lower := strings.ToLower(algo); lower != algo && (lower == CheaperAlgoSpare || lower == CheaperAlgoBusyness || lower == CheaperAlgoBacklog || lower == CheaperAlgoManual) {
				hint = fmt.Sprintf("write %s: uWSGI matches the name exactly (it would log \"unable to find requested cheaper algorithm, falling back to spare\")", lower)
			}
			return fail("cheaper-algo", "unknown cheaper algorithm %q: %s", algo, hint)
		}
	}
	b := &c.CheaperBusyness
	for _, f := range []struct {
		key string
		dst *int
	}{
		{"cheaper-busyness-min", &b.Min}, {"cheaper-busyness-max", &b.Max},
		{"cheaper-busyness-multiplier", &b.Multiplier}, {"cheaper-busyness-penalty", &b.Penalty},
		{"cheaper-busyness-backlog-alert", &b.BacklogAlert}, {"cheaper-busyness-backlog-step", &b.BacklogStep},
		{"cheaper-busyness-backlog-multiplier", &b.BacklogMultiplier},
	} {
		var err error
		if *f.dst, err = nonNeg(f.key); err != nil {
			return err
		}
	}
	for _, key := range []string{"cheaper-busyness-min", "cheaper-busyness-max"} {
		if n, _ := ini.Int(key, 0); n > 100 {
			return fail(key, "%d%%: a percentage goes up to 100", n)
		}
	}
	if msg := busynessRangeError(*b); msg != "" {
		key := "cheaper-busyness-min"
		if _, ok := ini.Lookup(key); !ok {
			key = "cheaper-busyness-max"
		}
		return fail(key, "%s", msg)
	}
	secs, err := nonNeg("cheaper-busyness-backlog-nonzero")
	if err != nil {
		return err
	}
	b.BacklogNonzero = time.Duration(secs) * time.Second
	b.Verbose = ini.Bool("cheaper-busyness-verbose")
	return nil
}

// cheaperWarnings are the cheaper options in ini that do not do what
// they seem to: an algorithm this engine lacks, busyness options for
// another algorithm, and zeros that uWSGI reads as its defaults.
func cheaperWarnings(ini *uwsgiini.Config) []uwsgiini.Warning {
	var out []uwsgiini.Warning
	warn := func(o uwsgiini.Option, format string, args ...any) {
		out = append(out, uwsgiini.Warning{File: o.File, Line: o.Line, Key: o.Key, Msg: fmt.Sprintf(format, args...)})
	}
	algo := CheaperAlgoSpare
	if o, ok := ini.Lookup("cheaper-algo"); ok {
		algo = strings.TrimSpace(o.Value)
		switch algo {
		case "backlog2":
			warn(o, "%s = backlog2 (uWSGI's cheaper_backlog2 plugin) is not supported by this engine: spare runs instead, as on a uWSGI without that plugin; busyness or backlog are the nearest", o.Raw)
		case "spare2":
			warn(o, "%s = spare2 is uWSGI 2.1's, not 2.0.21's: spare runs instead, as on uWSGI 2.0.21", o.Raw)
		}
		if n, _ := ini.Int("cheaper", 0); n <= 0 {
			warn(o, "%s has no effect without cheaper = N (the fewest workers to keep)", o.Raw)
		}
	}
	defaults := map[string]string{
		"cheaper-busyness-min": "25", "cheaper-busyness-max": "50", "cheaper-busyness-multiplier": "10",
		"cheaper-busyness-penalty": "2", "cheaper-busyness-backlog-alert": "33", "cheaper-busyness-backlog-step": "1",
		"cheaper-busyness-backlog-multiplier": "3", "cheaper-busyness-backlog-nonzero": "60",
	}
	for _, o := range ini.Options {
		if !strings.HasPrefix(o.Key, "cheaper-busyness-") {
			continue
		}
		if algo != CheaperAlgoBusyness {
			warn(o, "%s has no effect: it tunes cheaper-algo = busyness, and the algorithm is %s", o.Raw, algo)
		}
		if def, ok := defaults[o.Key]; ok && strings.TrimSpace(o.Value) == "0" {
			warn(o, "%s = 0 means uWSGI's default, %s, not 0", o.Raw, def)
		}
	}
	return out
}
