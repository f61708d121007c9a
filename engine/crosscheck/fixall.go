package crosscheck

import (
	"fmt"

	"github.com/wsgideck/wsgideck/engine/confedit"
)

// maxFixRounds bounds FixAll; each round fixes one finding.
const maxFixRounds = 32

// FixAll applies the preferred Fix of each finding that has one, one at a
// time with a fresh Check in between (a fix moves lines and can resolve
// other findings), until no finding offers a fix it has not tried. It
// returns the summaries of the fixes applied and the last report. The
// documents are edited in memory only.
func FixAll(ini *confedit.INIDoc, ngx *confedit.NginxDoc, opts Options) ([]string, *Report, error) {
	var applied []string
	tried := map[string]bool{}
	for round := 0; ; round++ {
		r, err := Check(ini, ngx, opts)
		if err != nil {
			return applied, nil, err
		}
		var next *Fix
		for _, f := range r.Findings {
			if len(f.Fixes) > 0 && !tried[f.Fixes[0].Summary] {
				next = &f.Fixes[0]
				break
			}
		}
		if next == nil || round == maxFixRounds {
			return applied, r, nil
		}
		tried[next.Summary] = true
		if err := next.Apply(); err != nil {
			return applied, r, fmt.Errorf("crosscheck: %s: %w", next.Summary, err)
		}
		applied = append(applied, next.Summary)
	}
}
