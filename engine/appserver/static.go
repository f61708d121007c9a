package appserver

import (
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsgideck/wsgideck/engine/workerproto"
)

var timeZero time.Time

// mimeTypesFile is where uWSGI (and this engine) read the extension table.
const mimeTypesFile = "/etc/mime.types"

var (
	mimeOnce  sync.Once
	mimeTable map[string]string
)

// mimeType returns the type of a file extension (".css") from
// /etc/mime.types, falling back to Go's built-in table without its
// parameters when the file is missing.
func mimeType(ext string) string {
	if ext == "" {
		return ""
	}
	mimeOnce.Do(func() { mimeTable = loadMimeTypes(mimeTypesFile) })
	if mimeTable != nil {
		return mimeTable[strings.ToLower(ext[1:])]
	}
	t, _, _ := strings.Cut(mime.TypeByExtension(ext), ";")
	return t
}

// loadMimeTypes reads a mime.types file: "type ext ext ..." per line.
func loadMimeTypes(path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	table := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		for _, ext := range fields[1:] {
			ext = strings.ToLower(ext)
			if _, dup := table[ext]; !dup {
				table[ext] = fields[0]
			}
		}
	}
	return table
}

// serveStatic serves rq from the static-map (and static-map2) directories
// when a file matches, as uWSGI's static-map does, and reports whether it
// did. Only GET and HEAD are served; a directory is served by its first
// static-index file; a path that matches no regular file falls through to
// the app. Paths are cleaned first and a symlink may not lead out of its
// directory.
func (s *Server) serveStatic(cfg *Config, rq *request, resp responder, ifModifiedSince string) bool {
	if rq.info.Method != "GET" && rq.info.Method != "HEAD" {
		return false
	}
	p := rq.info.PathInfo
	for _, m := range cfg.StaticMaps {
		rest, ok := strings.CutPrefix(p, m.Mount)
		if !ok || (rest != "" && rest[0] != '/' && !strings.HasSuffix(m.Mount, "/")) {
			continue
		}
		clean := path.Clean("/" + rest)
		if m.Full {
			clean = path.Clean("/" + p)
		}
		name := filepath.Join(m.Dir, filepath.FromSlash(clean))
		f, fi, ok := openInside(name, m.Dir)
		if !ok && len(cfg.StaticIndex) > 0 {
			// static-index: a directory is served by its index file.
			if st, err := os.Stat(name); err == nil && st.IsDir() {
				for _, idx := range cfg.StaticIndex {
					if f, fi, ok = openInside(filepath.Join(name, idx), m.Dir); ok {
						break
					}
				}
			}
		}
		if ok && skipExt(f.Name(), cfg.StaticSkipExt) {
			f.Close()
			ok = false
		}
		if !ok {
			continue
		}
		s.sendFile(rq, resp, f, fi, ifModifiedSince)
		f.Close()
		return true
	}
	return false
}

// openInside opens name if it is a regular file whose real path lies inside
// dir.
func openInside(name, dir string) (*os.File, os.FileInfo, bool) {
	fi, err := os.Stat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil, false
	}
	real, err := filepath.EvalSymlinks(name)
	if err != nil {
		return nil, nil, false
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil || (real != root && !strings.HasPrefix(real, root+string(filepath.Separator))) {
		return nil, nil, false
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, nil, false
	}
	return f, fi, true
}

func (s *Server) sendFile(rq *request, resp responder, f *os.File, fi os.FileInfo, ifModifiedSince string) {
	start := s.now()
	mod := fi.ModTime().UTC()
	var lines []byte
	count := 0
	add := func(k, v string) {
		lines = append(lines, k...)
		lines = append(lines, ": "...)
		lines = append(lines, v...)
		lines = append(lines, "\r\n"...)
		count++
	}
	head := workerproto.ResponseHead{ContentLength: -1}
	notModified := false
	if t, err := http.ParseTime(ifModifiedSince); err == nil && !mod.Truncate(time.Second).After(t) {
		notModified = true
	}
	if notModified {
		head.Status, head.Code = []byte("304 Not Modified"), 304
		add("Last-Modified", mod.Format(http.TimeFormat))
	} else {
		head.Status, head.Code = []byte("200 OK"), 200
		// Like uWSGI: the type comes from /etc/mime.types, and a file of
		// unknown type is sent without a Content-Type.
		if ctype := mimeType(filepath.Ext(f.Name())); ctype != "" {
			add("Content-Type", ctype)
		}
		add("Content-Length", strconv.FormatInt(fi.Size(), 10))
		add("Last-Modified", mod.Format(http.TimeFormat))
		head.ContentLength = fi.Size()
	}
	head.Lines, head.Count = lines, count
	x := exchange{status: head.Code, app: -1, headers: count, sent: true}
	x.headerBytes = len(rq.proto) + 1 + len(head.Status) + 2 + len(lines) + 2
	if err := resp.start(&head, head.ContentLength); err != nil {
		x.clientErr = err
	} else if !notModified {
		n, err := io.Copy(resp, f)
		x.bodyBytes = n
		if err != nil {
			x.clientErr = err
			resp.abort()
		}
	}
	if x.clientErr == nil {
		if err := resp.finish(); err != nil {
			x.clientErr = err
		}
	}
	rq.via = " via sendfile()"
	s.logRequest(rq, nil, 0, &x, start)
}

// skipExt reports whether name ends with one of exts (static-skip-ext).
func skipExt(name string, exts []string) bool {
	for _, e := range exts {
		if e != "" && strings.HasSuffix(name, e) {
			return true
		}
	}
	return false
}
