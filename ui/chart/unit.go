package chart

import (
	"math"
	"strconv"
	"strings"
)

// Prefix selects how a Unit scales large values.
type Prefix int

const (
	// NoPrefix prints values as they are: "250 ms", "87%".
	NoPrefix Prefix = iota
	// SIPrefix scales by 1000 and appends k, M, G, T to the number:
	// "1.5k req/s".
	SIPrefix
	// BinaryPrefix scales by 1024 and puts Ki, Mi, Gi, Ti in front of the
	// suffix, after a space: "512 MiB".
	BinaryPrefix
)

var (
	siPrefixes     = [...]string{"", "k", "M", "G", "T", "P"}
	binaryPrefixes = [...]string{"", "Ki", "Mi", "Gi", "Ti", "Pi"}
)

// Unit formats the values of a chart: the Y-axis tick labels and the hover
// read-out. The Y-axis ticks are chosen in the scaled unit, so a memory chart
// gets ticks like 0, 200, 400 MiB rather than multiples of 10^8 bytes.
type Unit struct {
	// Suffix follows the number (and the prefix): "%", "B", " req/s", " ms".
	Suffix string
	// Prefix scales large values.
	Prefix Prefix
	// Custom, when set, replaces the default formatting. step is the tick
	// spacing for an axis label, or 0 for a single value (the hover read-out).
	// The tick values themselves are still chosen using Prefix.
	Custom func(v, step float64) string
}

// Units for the wsgideck graphs.
var (
	Percent           = Unit{Suffix: "%"}
	Bytes             = Unit{Suffix: "B", Prefix: BinaryPrefix}
	RequestsPerSecond = Unit{Suffix: " req/s", Prefix: SIPrefix}
	Milliseconds      = Unit{Suffix: " ms"}
	Count             = Unit{Prefix: SIPrefix}
)

// scale returns the divisor and prefix that fit magnitude m.
func (u Unit) scale(m float64) (div float64, prefix string) {
	m = math.Abs(m)
	div = 1
	switch u.Prefix {
	case SIPrefix:
		k := 0
		for m >= 1000 && k < len(siPrefixes)-1 {
			m /= 1000
			div *= 1000
			k++
		}
		return div, siPrefixes[k]
	case BinaryPrefix:
		k := 0
		for m >= 1024 && k < len(binaryPrefixes)-1 {
			m /= 1024
			div *= 1024
			k++
		}
		return div, binaryPrefixes[k]
	}
	return 1, ""
}

// join puts number, prefix and suffix together following the Prefix style.
func (u Unit) join(num, prefix string) string {
	if u.Prefix == BinaryPrefix {
		return num + " " + prefix + u.Suffix
	}
	return num + prefix + u.Suffix
}

// Format formats a single value, such as the hover read-out, with about three
// significant digits. NaN, a gap, is shown as "–".
func (u Unit) Format(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if u.Custom != nil {
		return u.Custom(v, 0)
	}
	if math.IsInf(v, 0) {
		if v < 0 {
			return u.join("-∞", "")
		}
		return u.join("∞", "")
	}
	div, prefix := u.scale(v)
	x := v / div
	decimals := 3
	switch a := math.Abs(x); {
	case a >= 100:
		decimals = 0
	case a >= 10:
		decimals = 1
	case a >= 1:
		decimals = 2
	}
	num := strconv.FormatFloat(x, 'f', decimals, 64)
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	if num == "-0" {
		num = "0"
	}
	return u.join(num, prefix)
}

// yAxis is the Y scale of a chart: ticks lo, lo+step, ... hi (n of them).
type yAxis struct {
	lo, hi, step float64 // in raw (unscaled) units
	n            int
	div          float64 // the unit scale chosen for the labels
	prefix       string
	decimals     int // digits after the point the labels need, all alike
}

// label formats tick i of the axis.
func (a *yAxis) label(u Unit, i int) string {
	v := a.lo + float64(i)*a.step
	if u.Custom != nil {
		return u.Custom(v, a.step)
	}
	num := strconv.FormatFloat(v/a.div, 'f', a.decimals, 64)
	if strings.Trim(num, "-0.") == "" {
		return u.join("0", "") // "0 B", not "0.0 MiB"
	}
	return u.join(num, a.prefix)
}

// axis computes "nice" ticks covering [min, max] with about target intervals:
// steps of 1, 2 or 5 times a power of ten in the scaled unit, the first and
// last tick on or outside the data.
func (u Unit) axis(min, max float64, target int) yAxis {
	if math.IsNaN(min) || math.IsNaN(max) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		min, max = 0, 1
	}
	if min > max {
		min, max = max, min
	}
	if target < 1 {
		target = 1
	}
	div, prefix := u.scale(math.Max(math.Abs(min), math.Abs(max)))
	smin, smax := min/div, max/div
	if smax-smin < 1e-9*math.Max(1, math.Abs(smax)) {
		// A flat line: give it some room above (and below, if not at 0).
		if smin == 0 {
			smax = 1
		} else {
			pad := math.Abs(smin) / 10
			smin, smax = smin-pad, smax+pad
		}
	}
	step := niceStep((smax - smin) / float64(target))
	// The epsilon keeps 0.30000000000000004 from growing an extra tick.
	lo := math.Floor(smin/step+1e-9) * step
	hi := math.Ceil(smax/step-1e-9) * step
	n := int(math.Round((hi-lo)/step)) + 1
	return yAxis{
		lo: lo * div, hi: hi * div, step: step * div, n: n,
		div: div, prefix: prefix, decimals: decimalsFor(step),
	}
}

// niceStep rounds raw up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if !(raw > 0) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		return mag
	case f <= 2:
		return 2 * mag
	case f <= 5:
		return 5 * mag
	}
	return 10 * mag
}

// decimalsFor returns how many digits after the point multiples of step need.
func decimalsFor(step float64) int {
	for d := 0; d < 9; d++ {
		x := step * math.Pow(10, float64(d))
		if math.Abs(x-math.Round(x)) < 1e-6*math.Max(1, x) {
			return d
		}
	}
	return 9
}
