package proxy

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDiffURIs sends a few hundred generated request targets, rich in the
// characters URI normalisation cares about, to both servers: $uri, $args,
// $request_uri and the status must agree for every one.
func TestDiffURIs(t *testing.T) {
	p := newPair(t, `
    server {
        listen {{LISTEN}};
        server_name localhost;
        merge_slashes on;
        location / { return 200 "uri=[$uri] args=[$args] ru=[$request_uri] is=[$is_args]\n"; }
    }
    server {
        listen 127.0.0.1:{{PORT2}};
        server_name localhost;
        merge_slashes off;
        location / { return 200 "uri=[$uri] args=[$args]\n"; }
    }`)
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"/", "/", "/", ".", ".", "..", "%2e", "%2E", "%2f", "%2F", "%25", "%3f", "%3F", "%23", "%20", "%00", "%", "%4", "%zz", "a", "b", "?", "#", "+", "&", "=", "%C3%A9", "~", ";"}
	seen := map[string]bool{}
	var cases []dcase
	for len(cases) < 300 {
		var b strings.Builder
		b.WriteString("/")
		for n := rng.IntN(8) + 1; n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		u := b.String()
		if seen[u] {
			continue
		}
		seen[u] = true
		cases = append(cases, dcase{path: u})
	}
	reps := p.run(cases)
	p.runOn(p.port2, cases[:100])
	count := map[int]int{}
	for _, r := range reps {
		count[r.status]++
	}
	// the corpus must exercise both outcomes, or it tests little
	if count[200] < 100 || count[400] < 20 {
		t.Errorf("unbalanced corpus: %v", count)
	}
}
