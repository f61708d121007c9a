package nginxconf

import "fmt"

// LocationKind is how a location matches, from its modifier.
type LocationKind uint8

const (
	// LocationPrefix is "location /path": the longest prefix wins, then
	// regexes are tried.
	LocationPrefix LocationKind = iota
	// LocationExact is "location = /path".
	LocationExact
	// LocationPrefixNoRegex is "location ^~ /path": a prefix that, when it
	// is the longest match, stops the regex search.
	LocationPrefixNoRegex
	// LocationRegex is "location ~ regex", case-sensitive.
	LocationRegex
	// LocationRegexCaseless is "location ~* regex".
	LocationRegexCaseless
	// LocationNamed is "location @name", reached only by internal
	// redirects.
	LocationNamed
)

var locationModifiers = [...]string{
	LocationPrefix: "", LocationExact: "=", LocationPrefixNoRegex: "^~",
	LocationRegex: "~", LocationRegexCaseless: "~*", LocationNamed: "",
}

var locationKindNames = [...]string{
	LocationPrefix: "prefix", LocationExact: "exact", LocationPrefixNoRegex: "prefix-noregex",
	LocationRegex: "regex", LocationRegexCaseless: "regex-caseless", LocationNamed: "named",
}

func (k LocationKind) String() string {
	if int(k) < len(locationKindNames) {
		return locationKindNames[k]
	}
	return fmt.Sprintf("LocationKind(%d)", uint8(k))
}

// Modifier returns the modifier as written in nginx.conf ("", "=", "^~",
// "~", "~*"). Named locations have none; their "@" is part of the name.
func (k LocationKind) Modifier() string { return locationModifiers[k] }

// IsRegex reports whether the location matches by regular expression.
func (k LocationKind) IsRegex() bool { return k == LocationRegex || k == LocationRegexCaseless }

// Location is a location directive's match, split as nginx splits it.
type Location struct {
	Kind LocationKind
	// Path is the prefix, the exact URI, the regex source or the name
	// (with its "@"), without the modifier.
	Path string
}

// String writes the location back in canonical form: modifier, space, path.
func (l Location) String() string {
	if m := l.Kind.Modifier(); m != "" {
		return m + " " + l.Path
	}
	return l.Path
}

// SplitLocation splits a location's arguments into its kind and path as
// ngx_http_core_location does. With two arguments the first must be one of
// "=", "^~", "~", "~*"; with one, a modifier glued to the path is accepted
// just as nginx accepts it: "=/", "^~/admin/", "~\.php$", "~*\.jpg$". The
// error is worded as nginx words it.
func SplitLocation(args []string) (Location, error) {
	switch len(args) {
	case 2:
		mod, path := args[0], args[1]
		switch mod {
		case "=":
			return Location{LocationExact, path}, nil
		case "^~":
			return Location{LocationPrefixNoRegex, path}, nil
		case "~":
			return Location{LocationRegex, path}, nil
		case "~*":
			return Location{LocationRegexCaseless, path}, nil
		}
		return Location{}, fmt.Errorf(`invalid location modifier "%s"`, mod)
	case 1:
		name := args[0]
		switch {
		case len(name) >= 1 && name[0] == '=':
			return Location{LocationExact, name[1:]}, nil
		case len(name) >= 2 && name[0] == '^' && name[1] == '~':
			return Location{LocationPrefixNoRegex, name[2:]}, nil
		case len(name) >= 2 && name[0] == '~' && name[1] == '*':
			return Location{LocationRegexCaseless, name[2:]}, nil
		case len(name) >= 1 && name[0] == '~':
			return Location{LocationRegex, name[1:]}, nil
		case len(name) >= 1 && name[0] == '@':
			return Location{LocationNamed, name}, nil
		}
		return Location{LocationPrefix, name}, nil
	}
	return Location{}, fmt.Errorf(`invalid number of arguments in "location" directive`)
}

// Location splits a location directive's arguments; see SplitLocation.
func (d *Directive) Location() (Location, error) { return SplitLocation(d.Values()) }
