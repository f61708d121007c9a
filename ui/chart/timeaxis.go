package chart

import (
	"strconv"
	"time"
)

// Windows are the time windows the Graphs tab offers.
var Windows = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}

// DefaultWindow is the window of a new Chart.
const DefaultWindow = 5 * time.Minute

// timeSteps are the spacings the time axis may use between labels.
var timeSteps = [...]time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
	15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
	5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour,
}

// timeStep returns the smallest label spacing that splits window into at
// most maxIntervals intervals.
func timeStep(window time.Duration, maxIntervals int) time.Duration {
	if maxIntervals < 1 {
		maxIntervals = 1
	}
	for _, s := range timeSteps {
		if window/s <= time.Duration(maxIntervals) {
			return s
		}
	}
	// A window of weeks: whole days, as many as needed.
	day := 24 * time.Hour
	n := (window/day + time.Duration(maxIntervals) - 1) / time.Duration(maxIntervals)
	return n * day
}

// agoLabel names a point d before now on the time axis: "now", "-30s",
// "-5m", "-1m30s", "-2h".
func agoLabel(d time.Duration) string {
	if d <= 0 {
		return "now"
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	b := []byte{'-'}
	if h > 0 {
		b = strconv.AppendInt(b, int64(h), 10)
		b = append(b, 'h')
	}
	if m > 0 {
		b = strconv.AppendInt(b, int64(m), 10)
		b = append(b, 'm')
	}
	if s > 0 || (h == 0 && m == 0) {
		b = strconv.AppendInt(b, int64(s), 10)
		b = append(b, 's')
	}
	return string(b)
}
