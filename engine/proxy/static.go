package proxy

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// rootValue evaluates root or alias.
func (r *request) rootValue() string {
	c := r.conf
	if c.rootPath != "" {
		return c.rootPath
	}
	v := c.root.eval(r)
	if !strings.HasPrefix(v, "/") {
		v = r.cfg.Prefix + v
	}
	return v
}

// mapURIToPath is ngx_http_map_uri_to_path: root + URI, or the alias with
// the location's prefix replaced (a regex location's alias is the whole
// path).
func (r *request) mapURIToPath() (string, bool) {
	return r.mapToPath(r.uri)
}

func (r *request) mapToPath(uri string) (string, bool) {
	b, ok := r.mapToPathBytes(nil, uri)
	if !ok {
		return "", false
	}
	return string(b[:len(b)-1]), true
}

// mapToPathBytes is mapToPath into dst, NUL-terminated for the kernel.
func (r *request) mapToPathBytes(dst []byte, uri string) ([]byte, bool) {
	c := r.conf
	if c.root == nil {
		return append(append(dst, uri...), 0), true
	}
	if c.rootPath != "" && !c.alias {
		return append(append(append(dst, c.rootPath...), uri...), 0), true
	}
	p, ok := r.mapToPathString(uri)
	if !ok {
		return dst, false
	}
	return append(append(dst, p...), 0), true
}

func (r *request) mapToPathString(uri string) (string, bool) {
	c := r.conf
	if c.root == nil {
		return uri, true
	}
	root := r.rootValue()
	if !c.alias {
		return root + uri, true
	}
	if r.loc != nil && r.loc.kind == locRegex {
		if r.addURIToAlias {
			return root + uri, true
		}
		return root, true
	}
	if r.loc == nil || !r.validLocation || !strings.HasPrefix(uri, r.loc.name) {
		r.errorf(levelError, "\"alias\" cannot be used in location %q where URI was rewritten", r.locName())
		return "", false
	}
	return root + uri[len(r.loc.name):], true
}

func (r *request) locName() string {
	if r.loc == nil {
		return ""
	}
	return r.loc.name
}

// openError maps a failed open to nginx's status.
func openErrorStatus(err error) int {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ENOENT, syscall.ENOTDIR, syscall.ENAMETOOLONG:
			return 404
		case syscall.EACCES, syscall.EMLINK, syscall.ELOOP:
			return 403
		}
		return 500
	}
	if errors.Is(err, fs.ErrNotExist) {
		return 404
	}
	if errors.Is(err, fs.ErrPermission) {
		return 403
	}
	return 500
}

// staticHandler is ngx_http_static_module. ok is false when it declines
// (a URI ending in "/").
func (r *request) staticHandler() (rc int, ok bool) {
	switch r.method {
	case "GET", "HEAD", "POST":
	default:
		return 405, true
	}
	// an empty URI (try_files "" in a location with alias) names the
	// root itself
	if r.uri != "" && r.uri[len(r.uri)-1] == '/' {
		return 0, false
	}
	pathb, ok := r.mapToPathBytes(r.c.pathBuf[:0], r.uri)
	if !ok {
		return 500, true
	}
	r.c.pathBuf = pathb
	// raw system calls: os.Open would also make the descriptor
	// non-blocking and register it with the poller, three system calls
	// a static file does not need
	var f staticFile
	err := f.open(pathb)
	if err != nil {
		path := string(pathb[:len(pathb)-1]) // without the NUL
		code := openErrorStatus(err)
		if code != 404 || r.conf.logNotFound {
			lvl := levelError
			if code == 500 {
				lvl = levelCrit
			}
			r.errorf(lvl, "open() %q failed (%s)", path, errnoString(err))
		}
		return code, true
	}
	defer f.close()
	if f.isDir {
		loc := escapeURI(r.uri) + "/"
		if r.args != "" {
			loc += "?" + r.args
		}
		r.resp.hasLocation = true
		r.resp.location = loc
		return 301, true
	}
	if !f.isRegular {
		r.errorf(levelCrit, "%q is not a regular file", string(pathb[:len(pathb)-1]))
		return 404, true
	}
	if r.method == "POST" {
		return 405, true
	}
	w := &r.resp
	w.status = 200
	w.contentLength = f.size
	w.lastModified = f.mtime
	if r.conf.etag {
		b := append(r.c.scratch[:0], '"')
		b = strconv.AppendInt(b, w.lastModified, 16)
		b = append(b, '-')
		b = strconv.AppendInt(b, w.contentLength, 16)
		b = append(b, '"')
		w.etag = string(b)
		w.headers = append(w.headers, header{name: "ETag", lower: "etag", value: w.etag})
	}
	if w.contentType == "" {
		// ngx_http_set_content_type keeps a type already set (one an
		// X-Accel-Redirect carried over)
		w.contentType = r.contentTypeFor()
	}
	w.allowRanges = true
	w.notModOK = true
	if code := r.sendHeader(); code != 0 {
		return code, true
	}
	if w.headOnly {
		return rcDone, true
	}
	if err := r.sendFile(&f, f.size); err != nil {
		r.keepAlive = false
		r.c.closed = true
	}
	r.finishBody()
	return rcDone, true
}

// contentTypeFor is ngx_http_set_content_type: the type of the URI's
// extension, or default_type.
func (r *request) contentTypeFor() string {
	if ext := r.exten; ext != "" {
		if t, ok := r.conf.types[ext]; ok {
			return t
		}
		if t, ok := r.conf.types[strings.ToLower(ext)]; ok {
			return t
		}
	}
	return r.conf.defaultType
}

// sendFile writes the file body, or the ranges chosen by the range filter.
func (r *request) sendFile(f *staticFile, size int64) error {
	w := &r.resp
	if len(w.ranges) == 0 {
		return r.copyFile(f, 0, size)
	}
	if len(w.ranges) == 1 {
		rg := w.ranges[0]
		return r.copyFile(f, rg.start, rg.end-rg.start)
	}
	for _, rg := range w.ranges {
		if err := r.writeString(r.partHeader(rg, size)); err != nil {
			return err
		}
		if err := r.copyFile(f, rg.start, rg.end-rg.start); err != nil {
			return err
		}
	}
	return r.writeString("\r\n--" + w.boundary + "--\r\n")
}

// copyFile sends n bytes of f from off. Small pieces go through the
// connection buffer with the header; big ones are handed to the socket
// (sendfile) once the buffer is flushed.
func (r *request) copyFile(f *staticFile, off, n int64) error {
	c := r.c
	if r.resp.gz == nil && !r.resp.chunked {
		if n <= int64(c.bw.Available()) {
			buf := c.bw.AvailableBuffer()[:n]
			if _, err := f.readAt(buf, off); err != nil {
				return err
			}
			c.bw.Write(buf)
			r.bytesSent += n
			r.bodyBytesSent += n
			return nil
		}
		if err := c.flush(); err != nil {
			return err
		}
		osf := f.file()
		if off != 0 {
			if _, err := osf.Seek(off, io.SeekStart); err != nil {
				return err
			}
		}
		if r.conf.sendTimeout > 0 {
			c.nc.SetWriteDeadline(c.srv.clock.now().Add(r.conf.sendTimeout))
		}
		m, err := io.Copy(c.nc, io.LimitReader(osf, n))
		if r.conf.sendTimeout > 0 {
			// a deadline left armed would fail a later write at once
			c.nc.SetWriteDeadline(time.Time{})
		}
		r.bytesSent += m
		r.bodyBytesSent += m
		if err != nil {
			c.werr = err
		}
		return err
	}
	buf := make([]byte, 32<<10)
	for n > 0 {
		chunk := buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		m, err := f.readAt(chunk, off)
		if m > 0 {
			if werr := r.write(chunk[:m]); werr != nil {
				return werr
			}
			off += int64(m)
			n -= int64(m)
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return nil
}

// staticFile is an open file: on Linux a raw descriptor (wrapped as an
// *os.File only for sendfile), elsewhere an *os.File (open, readAt, file
// and close are in staticfile_*.go).
type staticFile struct {
	fd        int // Linux
	f         *os.File
	size      int64
	mtime     int64
	isDir     bool
	isRegular bool
}

// notModified is the not_modified filter. It returns 304 or 412 when the
// conditional headers say so, else 0.
func (r *request) notModified() int {
	w := &r.resp
	if r.has(hIfUnmodifiedSince) && !r.testIfUnmodified() {
		return 412
	}
	if r.has(hIfMatch) && !testIfMatch(w.etag, r.hdr(hIfMatch), false) {
		return 412
	}
	if r.has(hIfModifiedSince) || r.has(hIfNoneMatch) {
		if r.has(hIfModifiedSince) && r.testIfModified() {
			return 0
		}
		if r.has(hIfNoneMatch) && !testIfMatch(w.etag, r.hdr(hIfNoneMatch), true) {
			return 0
		}
		return 304
	}
	return 0
}

func (r *request) testIfUnmodified() bool {
	lm := r.resp.lastModified
	if lm == -1 {
		return false
	}
	t, ok := parseHTTPTime(r.hdr(hIfUnmodifiedSince))
	return ok && t >= lm
}

// testIfModified reports whether the resource counts as modified since
// If-Modified-Since: with if_modified_since exact (the default) only an
// equal time means "not modified"; with before, an older one does too.
func (r *request) testIfModified() bool {
	lm := r.resp.lastModified
	if lm == -1 {
		return true
	}
	mode := r.conf.ifModifiedSince
	if mode == imsOff {
		return true
	}
	t, ok := parseHTTPTime(r.hdr(hIfModifiedSince))
	if ok && t == lm {
		return false
	}
	if mode == imsExact || !ok || t < lm {
		return true
	}
	return false
}

// testIfMatch is ngx_http_test_if_match: is the ETag in the list? With
// weak set, "W/" prefixes are ignored (If-None-Match).
func testIfMatch(etag, list string, weak bool) bool {
	if etag == "" {
		return false
	}
	if list == "*" {
		return true
	}
	if weak && strings.HasPrefix(etag, "W/") {
		etag = etag[2:]
	}
	s := list
	for len(s) >= len(etag) {
		if weak && len(s) > 2 && s[0] == 'W' && s[1] == '/' {
			s = s[2:]
		}
		if len(etag) > len(s) {
			return false
		}
		if s[:len(etag)] == etag {
			rest := strings.TrimLeft(s[len(etag):], " \t")
			if rest == "" || rest[0] == ',' {
				return true
			}
		}
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return false
		}
		s = strings.TrimLeft(s[i:], " \t,")
	}
	return false
}

// parseHTTPTime parses the three date formats of HTTP (RFC 1123, RFC 850,
// asctime) to Unix seconds, as ngx_parse_http_time does.
func parseHTTPTime(s string) (int64, bool) {
	for _, layout := range []string{
		"Mon, 02 Jan 2006 15:04:05 GMT",
		"Mon, 2 Jan 2006 15:04:05 GMT",
		"Monday, 02-Jan-06 15:04:05 GMT",
		"Mon Jan _2 15:04:05 2006",
		"Mon, 02-Jan-2006 15:04:05 GMT",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// errnoString formats an open error the way nginx's log does:
// "2: No such file or directory".
func errnoString(err error) string {
	return syscallText(err)
}
