package appserver

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// strftime is a compiled C strftime(3) format, as uWSGI's log-date takes
// one: "log-date = %Y-%m-%d %H:%M:%S" prefixes log lines with that. The
// conversions are C's in the "C" locale (the one uWSGI runs in unless the
// program sets another), so %c is "Sun Nov 22 12:18:07 2026".
type strftime []strftimePart

// strftimePart is literal text (conv 0) or one conversion.
type strftimePart struct {
	conv byte
	text string
}

// parseStrftime compiles format. A conversion C does not define is an
// error (glibc would print it as it stands, which hides the typo).
func parseStrftime(format string) (strftime, error) {
	var out strftime
	lit := make([]byte, 0, len(format))
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			lit = append(lit, c)
			continue
		}
		i++
		if i == len(format) {
			return nil, fmt.Errorf("the format ends with a lone %%: write %%%% for a percent sign")
		}
		c = format[i]
		// Flags and modifiers glibc accepts (%-d, %Ey, %Od) are not
		// supported: say so rather than print something else.
		switch c {
		case '%':
			lit = append(lit, '%')
		case 'n':
			lit = append(lit, '\n')
		case 't':
			lit = append(lit, '\t')
		case 'a', 'A', 'b', 'B', 'c', 'C', 'd', 'D', 'e', 'F', 'g', 'G', 'h', 'H', 'I', 'j', 'k', 'l',
			'm', 'M', 'p', 'P', 'r', 'R', 's', 'S', 'T', 'u', 'U', 'V', 'w', 'W', 'x', 'X', 'y', 'Y', 'z', 'Z':
			if len(lit) > 0 {
				out = append(out, strftimePart{text: string(lit)})
				lit = lit[:0]
			}
			out = append(out, strftimePart{conv: c})
		default:
			return nil, fmt.Errorf("%%%c is not a strftime conversion (see man strftime; %%Y-%%m-%%d %%H:%%M:%%S is an example)", c)
		}
	}
	if len(lit) > 0 {
		out = append(out, strftimePart{text: string(lit)})
	}
	return out, nil
}

// appendTo appends t formatted to b.
func (f strftime) appendTo(b []byte, t time.Time) []byte {
	for _, p := range f {
		if p.conv == 0 {
			b = append(b, p.text...)
			continue
		}
		b = appendConversion(b, p.conv, t)
	}
	return b
}

func appendConversion(b []byte, c byte, t time.Time) []byte {
	switch c {
	case 'a':
		return append(b, t.Weekday().String()[:3]...)
	case 'A':
		return append(b, t.Weekday().String()...)
	case 'b', 'h':
		return append(b, t.Month().String()[:3]...)
	case 'B':
		return append(b, t.Month().String()...)
	case 'c':
		return t.AppendFormat(b, "Mon Jan _2 15:04:05 2006")
	case 'C':
		return pad(b, t.Year()/100, 2, '0')
	case 'd':
		return pad(b, t.Day(), 2, '0')
	case 'D', 'x':
		return t.AppendFormat(b, "01/02/06")
	case 'e':
		return pad(b, t.Day(), 2, ' ')
	case 'F':
		return t.AppendFormat(b, "2006-01-02")
	case 'g':
		y, _ := t.ISOWeek()
		return pad(b, y%100, 2, '0')
	case 'G':
		y, _ := t.ISOWeek()
		return strconv.AppendInt(b, int64(y), 10)
	case 'H':
		return pad(b, t.Hour(), 2, '0')
	case 'I':
		return pad(b, hour12(t), 2, '0')
	case 'j':
		return pad(b, t.YearDay(), 3, '0')
	case 'k':
		return pad(b, t.Hour(), 2, ' ')
	case 'l':
		return pad(b, hour12(t), 2, ' ')
	case 'm':
		return pad(b, int(t.Month()), 2, '0')
	case 'M':
		return pad(b, t.Minute(), 2, '0')
	case 'p':
		if t.Hour() < 12 {
			return append(b, "AM"...)
		}
		return append(b, "PM"...)
	case 'P':
		if t.Hour() < 12 {
			return append(b, "am"...)
		}
		return append(b, "pm"...)
	case 'r':
		return t.AppendFormat(b, "03:04:05 PM")
	case 'R':
		return t.AppendFormat(b, "15:04")
	case 's':
		return strconv.AppendInt(b, t.Unix(), 10)
	case 'S':
		return pad(b, t.Second(), 2, '0')
	case 'T', 'X':
		return t.AppendFormat(b, "15:04:05")
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return strconv.AppendInt(b, int64(wd), 10)
	case 'U': // weeks starting on Sunday; days before the first Sunday are week 0
		return pad(b, (t.YearDay()-1+7-int(t.Weekday()))/7, 2, '0')
	case 'V':
		_, w := t.ISOWeek()
		return pad(b, w, 2, '0')
	case 'w':
		return strconv.AppendInt(b, int64(t.Weekday()), 10)
	case 'W': // weeks starting on Monday
		return pad(b, (t.YearDay()-1+7-(int(t.Weekday())+6)%7)/7, 2, '0')
	case 'y':
		return pad(b, t.Year()%100, 2, '0')
	case 'Y':
		return strconv.AppendInt(b, int64(t.Year()), 10)
	case 'z':
		return t.AppendFormat(b, "-0700")
	case 'Z':
		return t.AppendFormat(b, "MST")
	}
	return b
}

// ctimePattern matches C's ctime() date without its newline.
const ctimePattern = `[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} -?[0-9]+`

// conversionPatterns match what each conversion prints.
var conversionPatterns = map[byte]string{
	'a': `[A-Z][a-z]{2}`, 'A': `[A-Z][a-z]+`, 'b': `[A-Z][a-z]{2}`, 'h': `[A-Z][a-z]{2}`, 'B': `[A-Z][a-z]+`,
	'c': ctimePattern, 'C': `-?[0-9]{2,}`, 'd': `[0-9]{2}`, 'D': `[0-9]{2}/[0-9]{2}/[0-9]{2}`, 'e': `[ 0-9][0-9]`,
	'F': `-?[0-9]+-[0-9]{2}-[0-9]{2}`, 'g': `[0-9]{2}`, 'G': `-?[0-9]+`, 'H': `[0-9]{2}`, 'I': `[0-9]{2}`,
	'j': `[0-9]{3}`, 'k': `[ 0-9][0-9]`, 'l': `[ 0-9][0-9]`, 'm': `[0-9]{2}`, 'M': `[0-9]{2}`, 'p': `[AP]M`,
	'P': `[ap]m`, 'r': `[0-9]{2}:[0-9]{2}:[0-9]{2} [AP]M`, 'R': `[0-9]{2}:[0-9]{2}`, 's': `-?[0-9]+`,
	'S': `[0-9]{2}`, 'T': `[0-9]{2}:[0-9]{2}:[0-9]{2}`, 'u': `[1-7]`, 'U': `[0-9]{2}`, 'V': `[0-9]{2}`,
	'w': `[0-6]`, 'W': `[0-9]{2}`, 'x': `[0-9]{2}/[0-9]{2}/[0-9]{2}`, 'X': `[0-9]{2}:[0-9]{2}:[0-9]{2}`,
	'y': `[0-9]{2}`, 'Y': `-?[0-9]+`, 'z': `[+-][0-9]{4}`, 'Z': `[A-Za-z0-9+-]+`,
}

// pattern is a regular expression matching what f prints.
func (f strftime) pattern() string {
	var b []byte
	for _, p := range f {
		if p.conv == 0 {
			b = append(b, regexp.QuoteMeta(p.text)...)
			continue
		}
		b = append(b, "(?:"...)
		b = append(b, conversionPatterns[p.conv]...)
		b = append(b, ')')
	}
	return string(b)
}

// LogDatePrefix matches the prefix log-date puts before the lines the
// server logs itself ("Sun Nov 22 12:18:07 2026 - ", or the strftime
// format's date and " - "), at the start of a line; nil when log-date is
// off. A log reader tells the server's lines from the app's output with
// it (the app's output has no prefix).
func (c *Config) LogDatePrefix() *regexp.Regexp {
	if !c.LogDate {
		return nil
	}
	pat := ctimePattern
	if c.LogDateFormat != "" {
		f, err := parseStrftime(c.LogDateFormat)
		if err != nil {
			return nil
		}
		pat = f.pattern()
	}
	re, err := regexp.Compile("^" + pat + " - ")
	if err != nil {
		return nil // a format that is not UTF-8: no pattern for it
	}
	return re
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	return h
}

// pad appends n with at least width digits, padded on the left with fill.
func pad(b []byte, n, width int, fill byte) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	for i := len(d); i < width; i++ {
		b = append(b, fill)
	}
	return append(b, d...)
}
