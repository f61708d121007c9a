package uwsgiini

import "strings"

// suggest returns the known option closest to a misspelt name, or "".
// Options wsgideck supports win ties over the rest of uWSGI's.
func suggest(name string) string {
	norm := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	limit := 2
	if len(norm) <= 4 {
		limit = 1
	}
	best, bestD := "", limit+1
	try := func(cand string) {
		if d := editDistance(norm, cand); d < bestD {
			best, bestD = cand, d
		}
	}
	for _, s := range specs {
		try(s.Name)
		for _, a := range s.Aliases {
			try(a)
		}
	}
	if bestD > 1 {
		for _, r := range realList {
			try(r.name)
		}
	}
	return best
}

// editDistance is the Levenshtein distance, with a swap of two adjacent
// letters counting once ("proccess" and "porcesses" are both one typo).
func editDistance(a, b string) int {
	if a == b {
		return 0
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
