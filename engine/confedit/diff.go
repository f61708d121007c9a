package confedit

import (
	"bytes"
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change, as
// in diff -u.
const diffContext = 3

// maxDiffCells bounds the table of the line diff; beyond it (two large,
// wholly different files) the diff shows every old line removed and every
// new line added, which is correct, only less minimal.
const maxDiffCells = 4 << 20

// UnifiedDiff returns the changes from a to b as a unified diff (diff -u),
// with oldName and newName in the --- and +++ lines, or "" when a and b are
// equal. A last line without a line end gets diff's "\ No newline at end of
// file" marker, so a change of the final newline alone is visible.
func UnifiedDiff(oldName, newName string, a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	x, y := splitLines(a), splitLines(b)
	ops := lineDiff(x, y)

	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", oldName, newName)
	// Walk the edit script, cutting it into hunks separated by more than
	// 2*diffContext unchanged lines.
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == opEqual {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(0, i-diffContext)
		end := i
		for end < len(ops) {
			if ops[end].kind != opEqual {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == opEqual {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end = min(run, end+diffContext)
				break
			}
			end = run
		}
		writeHunk(&sb, ops[start:end], x, y)
		i = end
	}
	return sb.String()
}

type opKind uint8

const (
	opEqual opKind = iota
	opDelete
	opInsert
)

// op is one line of the edit script: x[ai] kept as y[bi], x[ai] deleted,
// or y[bi] inserted. ai and bi are the positions in each file at that
// point of the script.
type op struct {
	kind   opKind
	ai, bi int
}

func writeHunk(sb *strings.Builder, ops []op, x, y []string) {
	a0, b0 := ops[0].ai, ops[0].bi
	var na, nb int
	for _, o := range ops {
		if o.kind != opInsert {
			na++
		}
		if o.kind != opDelete {
			nb++
		}
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(a0, na), hunkRange(b0, nb))
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			writeDiffLine(sb, ' ', x[o.ai])
		case opDelete:
			writeDiffLine(sb, '-', x[o.ai])
		case opInsert:
			writeDiffLine(sb, '+', y[o.bi])
		}
	}
}

// hunkRange spells a hunk's range as diff -u does: "start,count", the
// count left out when it is 1, and an empty range starting at the line
// before it.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func writeDiffLine(sb *strings.Builder, mark byte, line string) {
	sb.WriteByte(mark)
	sb.WriteString(line)
	if !strings.HasSuffix(line, "\n") {
		sb.WriteString("\n\\ No newline at end of file\n")
	}
}

// splitLines splits b after each '\n', keeping the line ends.
func splitLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}

// lineDiff returns a shortest edit script from x to y: the common prefix
// and suffix are taken off, and the rest is solved with the longest common
// subsequence table.
func lineDiff(x, y []string) []op {
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	var ops []op
	for i := 0; i < pre; i++ {
		ops = append(ops, op{opEqual, i, i})
	}
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	n, m := len(mx), len(my)
	if (n+1)*(m+1) > maxDiffCells {
		for i := range mx {
			ops = append(ops, op{opDelete, pre + i, pre})
		}
		for j := range my {
			ops = append(ops, op{opInsert, pre + n, pre + j})
		}
	} else {
		// lcs[i][j] is the LCS length of mx[i:] and my[j:].
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if mx[i] == my[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && mx[i] == my[j]:
				ops = append(ops, op{opEqual, pre + i, pre + j})
				i++
				j++
			case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
				// Deletions come before insertions in a changed run, as
				// diff prints them: prefer deleting while it costs nothing.
				if i < n && lcs[i+1][j] == lcs[i][j] {
					ops = append(ops, op{opDelete, pre + i, pre + j})
					i++
					continue
				}
				ops = append(ops, op{opInsert, pre + i, pre + j})
				j++
			default:
				ops = append(ops, op{opDelete, pre + i, pre + j})
				i++
			}
		}
	}
	for k := 0; k < suf; k++ {
		ops = append(ops, op{opEqual, len(x) - suf + k, len(y) - suf + k})
	}
	return ops
}
