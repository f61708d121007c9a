package proxy

import (
	"errors"
	"fmt"
	"html"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// indexHandler is ngx_http_index_module: for a URI ending in "/", the
// first index file that exists causes an internal redirect. ok is false
// when it declines.
func (r *request) indexHandler() (rc int, ok bool) {
	if r.uri == "" || r.uri[len(r.uri)-1] != '/' {
		return 0, false
	}
	switch r.method {
	case "GET", "HEAD", "POST":
	default:
		return 0, false
	}
	dirTested := false
	for _, ix := range r.conf.index {
		name := ix.eval(r)
		if name == "" {
			continue
		}
		if name[0] == '/' {
			// an absolute index is used without a check
			u, a := name, r.args
			if i := strings.IndexByte(u, '?'); i >= 0 {
				u, a = u[:i], u[i+1:]
			}
			return r.internalRedirect(u, a), true
		}
		dir, ok := r.mapURIToPath()
		if !ok {
			return 500, true
		}
		path := dir + name
		st, err := os.Stat(path)
		if err != nil {
			var errno syscall.Errno
			errors.As(err, &errno)
			switch errno {
			case syscall.ENOTDIR, syscall.EACCES:
				if errno == syscall.EACCES {
					r.errorf(levelError, "%q is forbidden (13: Permission denied)", path)
					return 403, true
				}
				if r.conf.logNotFound {
					r.errorf(levelError, "%q is not found (%s)", path, errnoString(err))
				}
				return 404, true
			case syscall.ENOENT, syscall.ENAMETOOLONG:
				if !dirTested {
					if code := r.testIndexDir(dir, path, err); code != 0 {
						return code, true
					}
					dirTested = true
				}
				continue
			}
			r.errorf(levelCrit, "stat() %q failed (%s)", path, errnoString(err))
			return 500, true
		}
		_ = st
		return r.internalRedirect(r.uri+name, r.args), true
	}
	return 0, false
}

// testIndexDir checks that the directory of a missing index file exists.
func (r *request) testIndexDir(dir, index string, indexErr error) int {
	st, err := os.Stat(strings.TrimSuffix(dir, "/"))
	if err != nil {
		switch openErrorStatus(err) {
		case 404:
			if r.conf.logNotFound {
				r.errorf(levelError, "%q is not found (%s)", index, errnoString(indexErr))
			}
			return 404
		case 403:
			r.errorf(levelError, "%q is forbidden (%s)", dir, errnoString(err))
			return 403
		}
		r.errorf(levelCrit, "stat() %q failed (%s)", dir, errnoString(err))
		return 500
	}
	if !st.IsDir() {
		r.errorf(levelAlert, "%q is not a directory", dir)
		return 500
	}
	return 0
}

// tryFiles is the try_files phase. next is true when a file was found and
// processing continues in this location (with the URI set to it).
func (r *request) tryFiles() (rc int, next bool) {
	c := r.conf
	regexAlias := c.alias && r.loc != nil && r.loc.kind == locRegex
	for _, item := range c.tryFiles {
		name := item.name.eval(r)
		var path string
		stripped := false
		if c.alias && !regexAlias {
			// nginx strips the location's prefix only from names with
			// variables: a literal "/loc/file" is looked for under the
			// alias as it is (and usually not found)
			rest := name
			if !item.name.isLit && strings.HasPrefix(name, r.loc.name) {
				rest = name[len(r.loc.name):]
				stripped = true
			}
			path = r.rootValue() + rest
		} else {
			// root, or a regex location's alias (the whole path, to
			// which the name is appended as nginx 1.22 does)
			path = r.rootValue() + name
		}
		st, err := os.Stat(path)
		if err != nil {
			continue
		}
		if st.IsDir() != item.testDir {
			continue
		}
		if !st.IsDir() && !st.Mode().IsRegular() {
			continue
		}
		// found: continue in this location with the URI of the file
		switch {
		case regexAlias:
			// nginx keeps the URI for a directory, and for a file
			// maps the new URI after the alias from now on
			if !item.testDir {
				r.setURI(name)
				r.addURIToAlias = true
			}
		case c.alias:
			if !stripped {
				name = r.loc.name + name
			}
			r.setURI(name)
		default:
			r.setURI(name)
		}
		return 0, true
	}
	last := c.tryFilesLast
	if last.code != 0 {
		return last.code, false
	}
	target := last.uri.eval(r)
	if strings.HasPrefix(target, "@") {
		return r.namedRedirect(target[1:]), false
	}
	u, a := splitArgs(target)
	return r.internalRedirect(u, a), false
}

// autoindexHandler lists a directory for a URI ending in "/"
// (ngx_http_autoindex_module). ok is false when it declines.
func (r *request) autoindexHandler() (rc int, ok bool) {
	if !r.conf.autoindex || r.uri == "" || r.uri[len(r.uri)-1] != '/' {
		return 0, false
	}
	if r.method != "GET" && r.method != "HEAD" {
		return 0, false
	}
	dir, okp := r.mapURIToPath()
	if !okp {
		return 500, true
	}
	if len(dir) > 1 {
		dir = strings.TrimSuffix(dir, "/")
	}
	f, err := os.Open(dir)
	if err != nil {
		code := openErrorStatus(err)
		lvl := levelError
		if code == 500 {
			lvl = levelCrit
		}
		r.errorf(lvl, "opendir() %q failed (%s)", dir, errnoString(err))
		return code, true
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		r.errorf(levelCrit, "readdir() %q failed (%s)", dir, errnoString(err))
		return 500, true
	}
	var entries []dirEntry
	for _, n := range names {
		if strings.HasPrefix(n, ".") {
			continue
		}
		st, err := os.Stat(dir + "/" + n)
		if err != nil {
			if st, err = os.Lstat(dir + "/" + n); err != nil {
				continue
			}
		}
		entries = append(entries, dirEntry{name: n, dir: st.IsDir(), mtime: st.ModTime(), size: st.Size()})
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].dir != entries[j].dir {
			return entries[i].dir
		}
		return entries[i].name < entries[j].name
	})
	w := &r.resp
	w.status = 200
	var body string
	switch r.conf.autoindexFmt {
	case "json":
		w.contentType = "application/json"
		body = autoindexJSON(entries)
	default:
		w.contentType = "text/html"
		utf8Names := strings.EqualFold(r.conf.charset, "utf-8")
		body = autoindexHTML(r.uri, entries, r.conf.autoindexSize, r.conf.autoindexLT, utf8Names)
	}
	// nginx sends the listing chunked, without a length
	if code := r.sendHeader(); code != 0 {
		return code, true
	}
	r.writeString(body)
	r.finishBody()
	return rcDone, true
}

type dirEntry struct {
	name  string
	dir   bool
	mtime time.Time
	size  int64
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// autoindexHTML renders nginx's HTML listing: names padded to 50 columns
// (cut to 47 and "..>" when longer), the date, and the size.
func autoindexHTML(uri string, entries []dirEntry, exact, localtime, utf8Names bool) string {
	const nameLen = 50
	var b strings.Builder
	escURI := html.EscapeString(uri)
	b.WriteString("<html>\r\n<head><title>Index of ")
	b.WriteString(escURI)
	b.WriteString("</title></head>\r\n<body>\r\n<h1>Index of ")
	b.WriteString(escURI)
	b.WriteString("</h1><hr><pre><a href=\"../\">../</a>\r\n")
	for _, e := range entries {
		b.WriteString("<a href=\"")
		if strings.IndexByte(e.name, ':') >= 0 {
			b.WriteString("./")
		}
		b.WriteString(escapeURIComponent(e.name))
		if e.dir {
			b.WriteByte('/')
		}
		b.WriteString("\">")
		n := len(e.name)
		if utf8Names {
			n = utf8.RuneCountInString(e.name)
		}
		display := e.name
		if n > nameLen {
			display = truncateName(e.name, nameLen-3, utf8Names)
			b.WriteString(escapeHTMLName(display))
			b.WriteString("..&gt;</a>")
		} else {
			b.WriteString(escapeHTMLName(display))
			if e.dir && nameLen-n > 0 {
				b.WriteByte('/')
				n++
			}
			b.WriteString("</a>")
			b.WriteString(strings.Repeat(" ", nameLen-n))
		}
		b.WriteByte(' ')
		t := e.mtime.UTC()
		if localtime {
			t = e.mtime.Local()
		}
		fmt.Fprintf(&b, "%02d-%s-%d %02d:%02d ", t.Day(), months[t.Month()-1], t.Year(), t.Hour(), t.Minute())
		switch {
		case exact && e.dir:
			b.WriteString("                  -")
		case exact:
			fmt.Fprintf(&b, "%19d", e.size)
		case e.dir:
			b.WriteString("      -")
		default:
			b.WriteString(humanSize(e.size))
		}
		b.WriteString("\r\n")
	}
	b.WriteString("</pre><hr></body>\r\n</html>\r\n")
	return b.String()
}

// humanSize is autoindex_exact_size off: a number with K, M or G, right
// aligned in 7 columns.
func humanSize(length int64) string {
	var size int64
	var scale byte
	switch {
	case length > 1024*1024*1024-1:
		size = length / (1024 * 1024 * 1024)
		if length%(1024*1024*1024) > 1024*1024*1024/2-1 {
			size++
		}
		scale = 'G'
	case length > 1024*1024-1:
		size = length / (1024 * 1024)
		if length%(1024*1024) > 1024*1024/2-1 {
			size++
		}
		scale = 'M'
	case length > 9999:
		size = length / 1024
		if length%1024 > 511 {
			size++
		}
		scale = 'K'
	default:
		size = length
	}
	if scale != 0 {
		return fmt.Sprintf("%6d%c", size, scale)
	}
	return fmt.Sprintf("%7d", size)
}

func truncateName(s string, n int, utf8Names bool) string {
	if !utf8Names {
		if len(s) > n {
			return s[:n]
		}
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// escapeHTMLName escapes a name for the link text (ngx_escape_html).
func escapeHTMLName(s string) string {
	if !strings.ContainsAny(s, "<>&\"") {
		return s
	}
	r := strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;", "\"", "&quot;")
	return r.Replace(s)
}

func autoindexJSON(entries []dirEntry) string {
	var b strings.Builder
	b.WriteString("[\r\n")
	for i, e := range entries {
		if i > 0 {
			b.WriteString(",\r\n")
		}
		b.WriteString("{ \"name\":\"")
		// ngx_escape_json, as for log_format escape=json
		b.Write(appendJSONEscaped(nil, e.name))
		b.WriteString("\", \"type\":\"")
		if e.dir {
			b.WriteString("directory")
		} else {
			b.WriteString("file")
		}
		b.WriteString("\", \"mtime\":\"")
		b.WriteString(e.mtime.UTC().Format(httpTimeFormat))
		b.WriteString("\"")
		if !e.dir {
			b.WriteString(", \"size\":")
			b.WriteString(strconv.FormatInt(e.size, 10))
		}
		b.WriteString(" }")
	}
	b.WriteString("\r\n]")
	return b.String()
}
