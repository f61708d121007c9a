package nginxconf

import "strconv"

// Severity says whether a Diagnostic stops nginx or only warns.
type Severity int

const (
	// SeverityError is a problem nginx -t fails on ("[emerg]").
	SeverityError Severity = iota
	// SeverityWarning is accepted, but worth telling the user: a directive
	// that has no effect in wsgideck, or something nginx itself warns about.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warn"
	}
	return "emerg"
}

// Diagnostic is one problem found while reading or checking a config. Msg is
// worded as nginx words it; Error adds nginx's " in FILE:LINE" suffix, so an
// error reads exactly like the line nginx -t prints after "[emerg] ...: ".
//
// Line is the line nginx reports, which for a directive is the line of its
// terminating ";" or "{" (nginx has read that far when it complains). Col and
// Offset point at the offending token for editors; Offset is -1 when there
// is none (a file that cannot be opened).
type Diagnostic struct {
	Severity Severity
	Msg      string
	File     string
	Line     int
	Col      int
	Offset   int
	// Directive is the directive the diagnostic is about, or nil.
	Directive *Directive
	// AfterParse marks what nginx finds only once the whole configuration
	// is read (creating shared memory zones, in ngx_init_cycle): nginx -t
	// prints "syntax is ok" before it.
	AfterParse bool
}

var _ error = (*Diagnostic)(nil)

// Error formats the diagnostic as nginx does: "MSG in FILE:LINE".
func (d *Diagnostic) Error() string {
	if d.File == "" && d.Line == 0 {
		return d.Msg
	}
	return d.Msg + " in " + d.File + ":" + strconv.Itoa(d.Line)
}

// Diagnostics is a list of problems in the order nginx would meet them.
type Diagnostics []*Diagnostic

// Err returns the first error, which is the one nginx -t reports, or nil.
func (ds Diagnostics) Err() error {
	if d := ds.First(); d != nil {
		return d
	}
	return nil
}

// First returns the first error-severity diagnostic, or nil.
func (ds Diagnostics) First() *Diagnostic {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return d
		}
	}
	return nil
}

// Errors returns the error-severity diagnostics.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(SeverityError) }

// Warnings returns the warning-severity diagnostics.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(SeverityWarning) }

func (ds Diagnostics) filter(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}
