// Package metrics measures the engine's workers for the desktop app and for
// humans: per worker CPU %, RSS, VSZ and threads (from the process table,
// through gopsutil), and requests/s, average and p50/p95/p99 latency,
// exceptions and HTTP status classes (from what the master records as each
// request ends); per master the listen queue, the requests in flight and
// the totals.
//
// The pieces, and who calls what:
//
//   - Recorder is on the request path. The master calls RequestDone as each
//     request ends; it costs a handful of uncontended atomic adds and never
//     blocks, allocates or takes a lock.
//   - Sampler turns the Recorder's cumulative counters and the processes'
//     state into one sample per worker and one for the master, once per
//     Interval (1 s), and keeps them in ring buffers (15 minutes at 1 s by
//     default). Readers (the UI) get copies: Latest, History and
//     MasterHistory take a read lock the request path never touches.
//   - ProcSource reads a process's CPU time, memory and threads. The
//     default, NewProcSource, reads /proc/PID/stat on Linux and uses
//     gopsutil elsewhere; tests inject their own, and the
//     clock (Sampler.Now) too, so every computed figure can be checked
//     exactly.
//   - Handler serves the Prometheus text exposition of the same figures, on
//     an endpoint the engine enables only when asked to (a CLI flag or a
//     project setting, never an ini option: the ini must still run on real
//     uWSGI).
//
// Latency percentiles come from a log-linear histogram of 16 buckets per
// power of two of microseconds (at most 1/16 = 6.25% wide, reported at the
// bucket's middle, so within about 3%), kept as cumulative atomic counters
// the sampler differences per interval: a percentile describes the
// requests that ended during that interval, not a decaying average.
package metrics
