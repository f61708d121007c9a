package nginxconf

import (
	"os"
	"slices"
	"strings"
)

// Glob expands an include pattern the way glob(3) does with the flags nginx
// passes (none): "*", "?" and "[...]" ("!" or "^" negates, ranges and
// [:class:] work, "\" escapes) match within one path component; a name
// starting with "." only matches a pattern component that starts with a
// literal "."; and the whole result is sorted bytewise, as glob(3) sorts it
// in nginx's C locale. Unlike filepath.Glob, hidden files stay hidden. A
// pattern that matches nothing gives no paths and no error, as nginx's
// include does.
func Glob(pattern string) ([]string, error) {
	comps := strings.Split(pattern, "/")
	paths := []string{""}
	if strings.HasPrefix(pattern, "/") {
		paths = []string{"/"}
		comps = comps[1:]
	}
	for i, comp := range comps {
		last := i == len(comps)-1
		var next []string
		for _, dir := range paths {
			if !hasMeta(comp) {
				p := joinPath(dir, unescapeGlob(comp))
				if !last || exists(p) {
					next = append(next, p)
				}
				continue
			}
			read := dir
			if read == "" {
				read = "."
			}
			entries, err := os.ReadDir(read)
			if err != nil {
				continue // glob(3) without GLOB_ERR skips unreadable directories
			}
			for _, e := range entries {
				name := e.Name()
				if name == "." || name == ".." {
					continue
				}
				if name[0] == '.' && comp[0] != '.' {
					continue
				}
				if fnmatch(comp, name) {
					next = append(next, joinPath(dir, name))
				}
			}
		}
		paths = next
	}
	if len(paths) == 1 && paths[0] == "" {
		return nil, nil
	}
	slices.Sort(paths)
	return paths, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func joinPath(dir, name string) string {
	switch {
	case dir == "":
		return name
	case strings.HasSuffix(dir, "/"):
		return dir + name
	}
	return dir + "/" + name
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

func unescapeGlob(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// fnmatch matches one path component against one pattern component.
func fnmatch(pat, name string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for len(pat) > 0 && pat[0] == '*' {
				pat = pat[1:]
			}
			if pat == "" {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if fnmatch(pat, name[i:]) {
					return true
				}
			}
			return false
		case '?':
			if name == "" {
				return false
			}
			pat, name = pat[1:], name[1:]
		case '[':
			if name == "" {
				return false
			}
			ok, rest, valid := matchClass(pat, name[0])
			if !valid {
				// An unclosed "[" is an ordinary character.
				if name[0] != '[' {
					return false
				}
				pat, name = pat[1:], name[1:]
				continue
			}
			if !ok {
				return false
			}
			pat, name = rest, name[1:]
		case '\\':
			if len(pat) > 1 {
				pat = pat[1:]
			}
			fallthrough
		default:
			if name == "" || pat[0] != name[0] {
				return false
			}
			pat, name = pat[1:], name[1:]
		}
	}
	return name == ""
}

var charClasses = map[string]func(c byte) bool{
	"alpha":  func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' },
	"digit":  func(c byte) bool { return c >= '0' && c <= '9' },
	"alnum":  func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' },
	"upper":  func(c byte) bool { return c >= 'A' && c <= 'Z' },
	"lower":  func(c byte) bool { return c >= 'a' && c <= 'z' },
	"space":  func(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' },
	"xdigit": func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' },
	"punct": func(c byte) bool {
		return c > ' ' && c < 0x7f && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	},
}

// matchClass matches c against the bracket expression at the start of pat.
// It returns whether c matched, the pattern after the expression, and
// whether the expression was closed at all.
func matchClass(pat string, c byte) (matched bool, rest string, valid bool) {
	i := 1
	negate := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(pat) {
		if pat[i] == ']' && !first {
			return matched != negate, pat[i+1:], true
		}
		first = false
		if strings.HasPrefix(pat[i:], "[:") {
			if end := strings.Index(pat[i+2:], ":]"); end >= 0 {
				if fn := charClasses[pat[i+2:i+2+end]]; fn != nil {
					if fn(c) {
						matched = true
					}
					i += end + 4
					continue
				}
			}
		}
		lo := pat[i]
		if lo == '\\' && i+1 < len(pat) {
			i++
			lo = pat[i]
		}
		i++
		hi := lo
		if i+1 < len(pat) && pat[i] == '-' && pat[i+1] != ']' {
			hi = pat[i+1]
			if hi == '\\' && i+2 < len(pat) {
				hi = pat[i+2]
				i++
			}
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return false, "", false
}
