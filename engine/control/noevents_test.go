package control

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// nginx refuses a main config without an events block, so the editor's
// validation must too, with the fix in the message.
func TestValidateNginxWantsEvents(t *testing.T) {
	dir, _, _ := demoProject(t)
	r := NewRunner(RunnerOptions{Dir: dir})
	ngx, err := os.ReadFile(filepath.Join(dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	events := regexp.MustCompile(`(?m)^events\s*\{[^}]*\}\n?`)
	if !events.Match(ngx) {
		t.Fatalf("the demo's nginx.conf has no events block to remove:\n%s", ngx)
	}
	errs := errorsOf(r.ValidateNginx(events.ReplaceAllString(string(ngx), "")))
	if len(errs) == 0 || !strings.Contains(errs[0].Msg, `add "events {}"`) {
		t.Errorf("no events block: %v", errs)
	}
}
