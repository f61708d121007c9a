package proxy

import "testing"

// A server_name regex is compiled once, when the directive is read: every
// address the server listens on matches with the same compiled form, and
// a name with a capital letter matches caselessly, as in nginx.
func TestServerNameRegexCompiledOnce(t *testing.T) {
	cfg := compileText(t, t.TempDir(), `
events {}
http {
    server {
        listen 127.0.0.1:8001;
        listen 127.0.0.1:8002;
        listen 127.0.0.1:8003;
        server_name ~^(?<sub>[a-z]+)\.one\.test$ plain.test ~^Two\.test$;
        return 200 "$sub";
    }
}`)
	if len(cfg.Listens) != 3 {
		t.Fatalf("%d listen groups, want 3", len(cfg.Listens))
	}
	first := cfg.Listens[0].names.regex
	if len(first) != 2 {
		t.Fatalf("%d regex names, want 2", len(first))
	}
	for _, l := range cfg.Listens[1:] {
		for i, rn := range l.names.regex {
			if rn.re != first[i].re {
				t.Errorf("%s: regex %d compiled again (%p, first %p)", l.Addr, i, rn.re, first[i].re)
			}
		}
	}
	if !first[1].re.MatchString("two.test") {
		t.Errorf("~^Two\\.test$ does not match two.test: it must be caseless")
	}
	if first[0].re.MatchString("ABC.one.test") {
		t.Errorf("~^(?<sub>[a-z]+)\\.one\\.test$ matches ABC.one.test: it must be case-sensitive")
	}
}
