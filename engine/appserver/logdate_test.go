package appserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsgideck/wsgideck/engine/internal/peertest"
	"github.com/wsgideck/wsgideck/engine/uwsgiini"
)

// TestStrftimeLikeC formats the same instants with parseStrftime and with
// C's strftime (through Python's time.strftime, in UTC and the C locale),
// for every conversion log-date accepts.
func TestStrftimeLikeC(t *testing.T) {
	formats := []string{
		"%a %A %b %B %h", "%c", "%C %y %Y %G %g", "%d %e %j %m", "%D %F %x", "%H %I %k %l %M %S %p",
		"%r %R %T %X", "%s", "%u %w %U %W %V", "%z %Z", "[%Y-%m-%d %H:%M:%S] %% 100%%", "%n%t|", "plain text",
	}
	instants := []time.Time{
		time.Date(2026, 11, 22, 12, 18, 7, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),      // a Thursday: week 0 for %U and %W
		time.Date(2027, 1, 3, 23, 59, 59, 0, time.UTC),   // ISO week 53 of 2026
		time.Date(2024, 12, 30, 13, 5, 9, 0, time.UTC),   // ISO week 1 of 2025
		time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC),    // noon: PM
		time.Date(1999, 12, 31, 0, 30, 0, 0, time.UTC),   // 12 AM
		time.Date(2026, 3, 9, 7, 4, 5, 0, time.UTC),      // one-digit day and hour
		time.Date(2026, 12, 31, 18, 45, 30, 0, time.UTC), // day 365
	}
	var script strings.Builder
	script.WriteString("import time\nfor ts in [")
	for _, at := range instants {
		fmt.Fprintf(&script, "%d,", at.Unix())
	}
	script.WriteString("]:\n    for f in [")
	for _, f := range formats {
		fmt.Fprintf(&script, "%q,", f)
	}
	script.WriteString("]:\n        print(repr(time.strftime(f, time.localtime(ts))))\n")
	cmd := exec.Command(testPython, "-c", script.String())
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	i := 0
	for _, at := range instants {
		for _, f := range formats {
			sf, err := parseStrftime(f)
			if err != nil {
				t.Fatalf("%q: %v", f, err)
			}
			if re := regexp.MustCompile("^" + sf.pattern() + "$"); !re.Match(sf.appendTo(nil, at)) {
				t.Errorf("%q: the pattern %s does not match %q", f, re, sf.appendTo(nil, at))
			}
			got := fmt.Sprintf("%q", sf.appendTo(nil, at))
			// Python's repr quotes with ' and escapes like Go's %q for
			// these characters; compare the contents.
			w := strings.Trim(want[i], "'")
			if strings.Trim(got, `"`) != w {
				t.Errorf("%s %q: got %s, C gives %s", at.Format(time.RFC3339), f, got, want[i])
			}
			i++
		}
	}
}

func TestStrftimeErrors(t *testing.T) {
	for f, want := range map[string]string{
		"%Y-%m-%Q": "%Q is not a strftime conversion",
		"100%":     "lone %",
		"%-d":      "%- is not a strftime conversion",
	} {
		if _, err := parseStrftime(f); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", f, err, want)
		}
	}
	ini := "[uwsgi]\nhttp-socket = :0\nmodule = app\nlog-date = %%Y %%Q\n"
	parsed, err := uwsgiini.Parse("/srv/app/uwsgi.ini", []byte(ini), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromINI(parsed); err == nil || !strings.Contains(err.Error(), "uwsgi.ini:4") || !strings.Contains(err.Error(), "%Q is not a strftime conversion") {
		t.Errorf("FromINI: %v, want the file, the line and the bad conversion", err)
	}
	// uWSGI would print "false - " before each line; false is off here.
	for v, on := range map[string]bool{"false": false, "no": false, "0": false, "true": true, "yes": true} {
		parsed, err := uwsgiini.Parse("u.ini", []byte("[uwsgi]\nhttp-socket = :0\nmodule = app\nlog-date = "+v+"\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		if c, err := FromINI(parsed); err != nil || c.LogDate != on || c.LogDateFormat != "" {
			t.Errorf("log-date = %s: on %v, format %q, %v; want on %v and ctime()", v, c.LogDate, c.LogDateFormat, err, on)
		}
	}
}

func FuzzStrftime(f *testing.F) {
	for _, s := range []string{"%Y-%m-%d %H:%M:%S", "%c", "[%a %b %e]", "%%", "%", "%Q", "%U%W%V%G"} {
		f.Add(s, int64(1795349903))
	}
	f.Fuzz(func(t *testing.T, format string, unix int64) {
		sf, err := parseStrftime(format)
		if err != nil {
			return
		}
		at := time.Unix(unix%(400*365*86400), 0).UTC()
		out := sf.appendTo(nil, at)
		if !strings.ContainsRune(format, '%') && string(out) != format {
			t.Fatalf("%q without conversions formatted as %q", format, out)
		}
		// What log readers use to find the date must match it (regexp
		// takes only UTF-8).
		if !utf8.ValidString(format) {
			return
		}
		if re := regexp.MustCompile("^" + sf.pattern() + "$"); !re.Match(out) {
			t.Fatalf("%q: the pattern %s does not match %q", format, re, out)
		}
	})
}

// TestLogDateLikeUWSGI runs the same ini, with log-date in both its forms,
// on real uWSGI and on ours: the lines the master and the workers log
// themselves carry the date prefix; request lines and what the app prints
// do not.
func TestLogDateLikeUWSGI(t *testing.T) {
	t.Parallel()
	app := "import sys\ndef application(env, sr):\n    print('app print line')\n    sys.stderr.write('app stderr line\\n')\n    sr('200 OK', [('Content-Type', 'text/plain')])\n    return [b'hi']\n"
	dir := writeApp(t, map[string]string{"app.py": app})
	for _, c := range []struct {
		option string
		prefix string // a regexp for the date and " - "
	}{
		{"log-date = true", `^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] \d\d:\d\d:\d\d \d{4} - `},
		{"log-date = [%%Y-%%m-%%d %%H:%%M:%%S]", `^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] - `},
	} {
		prefix := regexp.MustCompile(c.prefix)
		// classify says, for each marker, whether its line has the prefix.
		classify := func(who, log string) map[string]bool {
			markers := []string{"spawned uWSGI worker 1", "WSGI app 0 (mountpoint='') ready", "[pid: ", "app print line", "app stderr line"}
			got := map[string]bool{}
			for _, line := range strings.Split(log, "\n") {
				for _, m := range markers {
					if _, seen := got[m]; !seen && strings.Contains(line, m) {
						got[m] = prefix.MatchString(line)
					}
				}
			}
			if len(got) != len(markers) {
				t.Fatalf("%s, %s: found %v of %q in the log:\n%s", who, c.option, got, markers, log)
			}
			return got
		}
		ini := func(addr string) string {
			return fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nmodule = app\nhttp-socket = %s\n%s\n", dir, addr, c.option)
		}
		fetch := func(addr string) { t.Helper(); get(t, "http://"+addr+"/") }

		theirAddr := peertest.FreeAddr(t)
		u := peertest.StartUWSGI(t, ini(theirAddr))
		fetch(theirAddr)
		waitFileHas(t, u.Log, "[pid: ")
		theirs := classify("uWSGI", u.LogText())

		parsed, err := uwsgiini.Parse(filepath.Join(dir, "ours.ini"), []byte(ini("127.0.0.1:0")), "")
		cfg := configFromINI(t, parsed, err)
		s, log := startServer(t, cfg)
		waitReady(t, s)
		fetch(s.Addrs()[0])
		s.log.flush()
		waitLog(t, log, "[pid: ")
		waitLog(t, log, "app stderr line")
		ours := classify("ours", log.String())
		for m, want := range theirs {
			if ours[m] != want {
				t.Errorf("%s: the line with %q: date prefix %v, uWSGI's %v", c.option, m, ours[m], want)
			}
		}
	}
}

// TestLogReopen: with log-reopen, a reload writes the log to a new file of
// the logto name (after logrotate renamed the old one), with uWSGI's two
// lines; master-fifo l does the same at once.
func TestLogReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logto := filepath.Join(dir, "app.log")
	fifo := filepath.Join(dir, "master.fifo")
	s, _ := startServer(t, Config{
		Sockets: []Socket{{Proto: ProtoHTTP}}, Module: "app", Chdir: writeApp(t, map[string]string{"app.py": plainApp}),
		LogTo: logto, LogReopen: true, MasterFIFO: []string{fifo},
	})
	waitReady(t, s)

	rotate := func(to string) {
		t.Helper()
		if err := os.Rename(logto, to); err != nil {
			t.Fatal(err)
		}
	}
	rotate(logto + ".1")
	if err := s.Reload(nil); err != nil {
		t.Fatal(err)
	}
	waitFileHas(t, logto, "reopened.")
	waitFileHas(t, logto, "spawned uWSGI worker 1")
	if old := readLog(t, logto+".1"); !regexp.MustCompile(`\[\d+\] logsize: \d+, triggering log-reopen\.\.\.\n$`).MatchString(old) {
		t.Errorf("the rotated file does not end with uWSGI's log-reopen line:\n%s", old)
	}
	if first := strings.SplitN(readLog(t, logto), "\n", 2)[0]; !regexp.MustCompile(`^\[\d+\] ` + regexp.QuoteMeta(logto) + ` reopened\.$`).MatchString(first) {
		t.Errorf("the new file starts with %q, want uWSGI's \"[time] %s reopened.\"", first, logto)
	}

	rotate(logto + ".2")
	writeFIFO(t, fifo, "l")
	waitFileHas(t, logto, "reopened.")
	if old := readLog(t, logto+".2"); !strings.HasSuffix(old, "triggering log-reopen...\n") {
		t.Errorf("master-fifo l: the rotated file ends with:\n%s", old)
	}
	get(t, "http://"+s.Addrs()[0]+"/hello")
	s.log.flush()
	waitFileHas(t, logto, "[pid: ")
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFileHas waits until the file at path contains text.
func waitFileHas(t *testing.T, path, text string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never had %q; it has:\n%s", path, text, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLogMaxSizeLikeUWSGI: log-maxsize rotates the logto file once it is
// larger, as uWSGI does: the old file is renamed to NAME.<unix time> and
// ends with "logsize: N, triggering rotation to ..."; log-backupname names
// it instead; master-fifo L rotates at once. The workers' output follows
// the new file (uWSGI's would stay in the renamed one).
func TestLogMaxSizeLikeUWSGI(t *testing.T) {
	t.Parallel()
	app := "def application(env, sr):\n    print('app says ' + env['PATH_INFO'])\n    sr('200 OK', [('Content-Type', 'text/plain')])\n    return [b'hi']\n"
	dir := writeApp(t, map[string]string{"app.py": app})
	rotated := regexp.MustCompile(`(?m)^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] \d\d:\d\d:\d\d \d{4} - logsize: (\d+), triggering rotation to (\S+)\.\.\.\n\z`)

	// Real uWSGI first: what the rotated file looks like.
	theirDir := t.TempDir()
	theirAddr, theirLog := peertest.FreeAddr(t), filepath.Join(theirDir, "app.log")
	// (Started by hand: peertest watches uWSGI's output, which logto takes.)
	iniPath := filepath.Join(theirDir, "uwsgi.ini")
	if err := os.WriteFile(iniPath, []byte(fmt.Sprintf("[uwsgi]\nplugins = python3\nmaster = true\nchdir = %s\nmodule = app\nhttp-socket = %s\nlogto = %s\nlog-maxsize = 2000\n", dir, theirAddr, theirLog)), 0o644); err != nil {
		t.Fatal(err)
	}
	uwsgi := exec.Command("/usr/bin/uwsgi", "--ini", iniPath)
	if err := uwsgi.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uwsgi.Process.Signal(syscall.SIGINT); uwsgi.Wait() })
	peertest.WaitAddr(t, theirAddr, 20*time.Second, nil)
	for i := 0; i < 5; i++ {
		get(t, "http://"+theirAddr+"/")
	}
	theirBackup := waitRotated(t, theirDir, "app.log.")
	if !rotated.MatchString(readLog(t, theirBackup)) {
		t.Fatalf("uWSGI's rotated file does not end as this test expects:\n%s", readLog(t, theirBackup))
	}

	ourDir := t.TempDir()
	logto, fifo := filepath.Join(ourDir, "app.log"), filepath.Join(ourDir, "master.fifo")
	s, _ := startServer(t, Config{
		Sockets: []Socket{{Proto: ProtoHTTP}}, Module: "app", Chdir: dir, LogTo: logto, LogMaxSize: 2000,
		CheckInterval: 100 * time.Millisecond, MasterFIFO: []string{fifo},
	})
	waitReady(t, s)
	for i := 0; i < 20; i++ { // our start-up lines are fewer than uWSGI's
		get(t, "http://"+s.Addrs()[0]+"/")
	}
	backup := waitRotated(t, ourDir, "app.log.")
	old := readLog(t, backup)
	m := rotated.FindStringSubmatch(old)
	if m == nil || m[2] != backup {
		t.Fatalf("our rotated file %s ends with:\n%s", backup, old)
	}
	if n, _ := strconv.Atoi(m[1]); n <= 2000 {
		t.Errorf("rotated at logsize %d, not above log-maxsize 2000", n)
	}
	// The workers' output and the request lines go to the new file now.
	get(t, "http://"+s.Addrs()[0]+"/after")
	s.log.flush()
	waitFileHas(t, logto, "app says /after")
	waitFileHas(t, logto, "GET /after =>")

	// master-fifo L rotates at once, to log-backupname when set.
	named := filepath.Join(ourDir, "named.log")
	next := *s.cfg()
	next.LogBackupName = named
	if err := s.Reload(&next); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	writeFIFO(t, fifo, "L")
	waitFileHas(t, named, "triggering rotation to "+named+"...")
	get(t, "http://"+s.Addrs()[0]+"/last")
	s.log.flush()
	waitFileHas(t, logto, "app says /last")
}

// waitRotated waits for a file in dir whose name starts with prefix and
// returns its path.
func waitRotated(t *testing.T, dir, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) {
				p := filepath.Join(dir, e.Name())
				if b, _ := os.ReadFile(p); strings.Contains(string(b), "triggering rotation") {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rotated %s* file in %s", prefix, dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFIFORotateTwiceKeepsBothBackups: master-fifo L twice within a second
// keeps both rotated files (uWSGI renames the second over the first), and
// with a master-fifo the workers' output follows the new file.
func TestFIFORotateTwiceKeepsBothBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logto, fifo := filepath.Join(dir, "app.log"), filepath.Join(dir, "master.fifo")
	app := "def application(env, sr):\n    print('app says ' + env['PATH_INFO'])\n    sr('200 OK', [])\n    return [b'hi']\n"
	s, _ := startServer(t, Config{
		Sockets: []Socket{{Proto: ProtoHTTP}}, Module: "app", Chdir: writeApp(t, map[string]string{"app.py": app}),
		LogTo: logto, MasterFIFO: []string{fifo},
	})
	waitReady(t, s)
	writeFIFO(t, fifo, "L")
	writeFIFO(t, fifo, "L")
	deadline := time.Now().Add(15 * time.Second)
	for {
		backups, _ := filepath.Glob(logto + ".*")
		if len(backups) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backups after two rotations: %v", backups)
		}
		time.Sleep(20 * time.Millisecond)
	}
	get(t, "http://"+s.Addrs()[0]+"/after")
	waitFileHas(t, logto, "app says /after")
}
