package configgen

// DemoConfig is the local Config that the built-in demo project's
// uwsgi.ini and nginx.conf (assets/demo) are generated from; a test keeps
// the shipped files in sync with it. Its paths are relative, so the demo
// runs wherever it is copied.
func DemoConfig() Config {
	return Config{
		Name:      "demo",
		App:       App{Module: "wsgi", Callable: "application"},
		Chdir:     ".",
		Static:    []StaticMap{{URL: "/static/", Dir: "static"}},
		ProxyPort: 8080,
		AppPort:   3031,
		StatsPort: 9191,
		Processes: 2,
		// The demo's /slow page lets a learner run past it and watch the
		// worker get killed and respawned.
		Harakiri: 30,
	}
}
