package appserver

import (
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
