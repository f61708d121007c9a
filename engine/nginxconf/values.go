package nginxconf

import (
	"errors"
	"math"
	"strings"
	"time"
)

// ErrInvalidValue is returned by the value parsers for a value nginx would
// reject.
var ErrInvalidValue = errors.New("invalid value")

// atoi is ngx_atoi/ngx_atosz/ngx_atoof: decimal digits only, at least one,
// no sign, no overflow.
func atoi(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	const cutoff, cutlim = math.MaxInt64 / 10, math.MaxInt64 % 10
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v >= cutoff && (v > cutoff || int64(c-'0') > cutlim) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// ParseNumber parses a non-negative decimal integer as ngx_atoi does
// (worker_connections, types_hash_max_size).
func ParseNumber(s string) (int64, error) {
	v, ok := atoi(s)
	if !ok {
		return 0, ErrInvalidValue
	}
	return v, nil
}

// ParseSize parses a size as ngx_parse_size does: digits with an optional
// k/K or m/M suffix (client_max_body_size takes ParseOffset, which also
// knows g/G). "10MB" is invalid in nginx and here.
func ParseSize(s string) (int64, error) { return parseScaled(s, "kKmM") }

// ParseOffset parses an offset as ngx_parse_offset does: digits with an
// optional k, m or g suffix (either case). client_max_body_size is one.
func ParseOffset(s string) (int64, error) { return parseScaled(s, "kKmMgG") }

func parseScaled(s, units string) (int64, error) {
	if s == "" {
		return 0, ErrInvalidValue
	}
	scale := int64(1)
	if u := s[len(s)-1]; strings.IndexByte(units, u) >= 0 {
		switch u | 0x20 {
		case 'k':
			scale = 1 << 10
		case 'm':
			scale = 1 << 20
		case 'g':
			scale = 1 << 30
		}
		s = s[:len(s)-1]
	}
	v, ok := atoi(s)
	if !ok || v > math.MaxInt64/scale {
		return 0, ErrInvalidValue
	}
	return v * scale, nil
}

// ParseTime parses a time as ngx_parse_time does: numbers with units from
// largest to smallest, optionally space-separated ("1h 30m", "90s", "500ms",
// "10" meaning seconds). With seconds set the result is in seconds and "ms"
// is not allowed; otherwise it is in milliseconds and years and months are
// not allowed (nginx's msec values).
func ParseTime(s string, seconds bool) (int64, error) {
	const (
		stStart = iota
		stYear
		stMonth
		stWeek
		stDay
		stHour
		stMin
		stSec
		stMsec
		stLast
	)
	var value, total, scale, max int64
	valid := false
	step := stMonth
	if seconds {
		step = stStart
	}
	const cutoff, cutlim = math.MaxInt64 / 10, math.MaxInt64 % 10
	for p := 0; p < len(s); {
		c := s[p]
		if c >= '0' && c <= '9' {
			if value >= cutoff && (value > cutoff || int64(c-'0') > cutlim) {
				return 0, ErrInvalidValue
			}
			value = value*10 + int64(c-'0')
			valid = true
			p++
			continue
		}
		p++
		unit := func(st int, sc int64) bool {
			if step >= st {
				return false
			}
			step, max, scale = st, math.MaxInt64/sc, sc
			return true
		}
		ok := true
		switch c {
		case 'y':
			if step > stStart {
				return 0, ErrInvalidValue
			}
			step, max, scale = stYear, math.MaxInt64/(60*60*24*365), 60*60*24*365
		case 'M':
			ok = unit(stMonth, 60*60*24*30)
		case 'w':
			ok = unit(stWeek, 60*60*24*7)
		case 'd':
			ok = unit(stDay, 60*60*24)
		case 'h':
			ok = unit(stHour, 60*60)
		case 'm':
			if p < len(s) && s[p] == 's' {
				if seconds || step >= stMsec {
					return 0, ErrInvalidValue
				}
				p++
				step, max, scale = stMsec, math.MaxInt64, 1
				break
			}
			ok = unit(stMin, 60)
		case 's':
			ok = unit(stSec, 1)
		case ' ':
			ok = unit(stLast, 1)
		default:
			return 0, ErrInvalidValue
		}
		if !ok {
			return 0, ErrInvalidValue
		}
		if step != stMsec && !seconds {
			scale *= 1000
			max /= 1000
		}
		if value > max {
			return 0, ErrInvalidValue
		}
		value *= scale
		if total > math.MaxInt64-value {
			return 0, ErrInvalidValue
		}
		total += value
		value = 0
		for p < len(s) && s[p] == ' ' {
			p++
		}
	}
	if !valid {
		return 0, ErrInvalidValue
	}
	if !seconds {
		if value > math.MaxInt64/1000 {
			return 0, ErrInvalidValue
		}
		value *= 1000
	}
	if total > math.MaxInt64-value {
		return 0, ErrInvalidValue
	}
	return total + value, nil
}

// ParseDuration is ParseTime for millisecond values, as a time.Duration.
func ParseDuration(s string) (time.Duration, error) {
	ms, err := ParseTime(s, false)
	if err != nil {
		return 0, err
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return 0, ErrInvalidValue
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// ParseFlag parses "on" or "off" (any case), as ngx_conf_set_flag_slot does.
func ParseFlag(s string) (bool, error) {
	switch {
	case asciiEqualFold(s, "on"):
		return true, nil
	case asciiEqualFold(s, "off"):
		return false, nil
	}
	return false, ErrInvalidValue
}

// asciiEqualFold is ngx_strcasecmp equality: ASCII letters only.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
