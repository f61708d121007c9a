package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times. It is 100
// on every Linux architecture Go builds for.
const clockTicks = 100

// procStat is what /proc/PID/stat says about one process.
type procStat struct {
	pid, ppid int
	comm      string
	cpuTicks  uint64 // utime + stime
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// comm is in parentheses and may itself hold spaces or parentheses, so
	// the fields after it are found from the last ')'.
	open, closing := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[closing+1:]))
	// f[0] is state (field 3); ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return procStat{pid: pid, ppid: ppid, comm: string(b[open+1 : closing]), cpuTicks: ut + st}, nil
}

// allProcs reads every process's stat once.
func allProcs() map[int]procStat {
	out := map[int]procStat{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(pid); err == nil {
			out[pid] = st
		}
	}
	return out
}

// tree returns root and its descendants, root first, then by pid.
func tree(root int, procs map[int]procStat) []procStat {
	if _, ok := procs[root]; !ok {
		return nil
	}
	kids := map[int][]int{}
	for pid, st := range procs {
		kids[st.ppid] = append(kids[st.ppid], pid)
	}
	out := []procStat{procs[root]}
	queue := []int{root}
	var desc []procStat
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, k := range kids[p] {
			desc = append(desc, procs[k])
			queue = append(queue, k)
		}
	}
	sort.Slice(desc, func(i, j int) bool { return desc[i].pid < desc[j].pid })
	return append(out, desc...)
}

// treeCPU is the CPU time, in ticks, used so far by root and its
// descendants, split into the root (the master) and the rest.
func treeCPU(root int, procs map[int]procStat) (master, children uint64) {
	for i, p := range tree(root, procs) {
		if i == 0 {
			master = p.cpuTicks
		} else {
			children += p.cpuTicks
		}
	}
	return master, children
}

// memInfo is a process's resident memory, in KiB.
type memInfo struct {
	pid  int
	comm string
	rss  uint64 // VmRSS
	hwm  uint64 // VmHWM, the peak RSS
	pss  uint64 // Pss from smaps_rollup: shared pages divided among sharers
}

func readMem(p procStat) memInfo {
	m := memInfo{pid: p.pid, comm: p.comm}
	if f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.pid)); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch k {
			case "VmRSS":
				m.rss = n
			case "VmHWM":
				m.hwm = n
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p.pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "Pss:") {
				fs := strings.Fields(line)
				if len(fs) >= 2 {
					m.pss, _ = strconv.ParseUint(fs[1], 10, 64)
				}
			}
		}
	}
	return m
}

// cpuTotals is the first line of /proc/stat: all CPUs' time in ticks.
type cpuTotals struct{ busy, total uint64 }

func readCPUTotals() cpuTotals {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTotals{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTotals{}
	}
	var t cpuTotals
	for i, s := range f[1:] {
		n, _ := strconv.ParseUint(s, 10, 64)
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		t.total += n
		if i != 3 && i != 4 { // idle, iowait
			t.busy += n
		}
	}
	return t
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "?"
}
