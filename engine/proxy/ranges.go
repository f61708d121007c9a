package proxy

import (
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
)

// rangeFilter is ngx_http_range_header_filter: it turns a 200 into a 206
// (one range, or multipart/byteranges), answers 416 for an unsatisfiable
// Range, or adds "Accept-Ranges: bytes". It returns 416 when the caller
// must finalize with it.
func (r *request) rangeFilter() int {
	w := &r.resp
	if w.status != 200 || w.contentLength == -1 || r.major < 1 {
		return 0
	}
	if r.conf.maxRanges == 0 {
		// "max_ranges 0" turns ranges off: not even Accept-Ranges
		return 0
	}
	rv := r.hdr(hRange)
	if len(rv) < 7 || !equalFoldASCII(rv[:6], "bytes=") {
		w.headers = append(w.headers, acceptRangesHeader)
		return 0
	}
	if r.has(hIfRange) {
		ir := r.hdr(hIfRange)
		if len(ir) >= 2 && ir[len(ir)-1] == '"' {
			if w.etag == "" || w.etag != ir {
				w.headers = append(w.headers, acceptRangesHeader)
				return 0
			}
		} else {
			t, ok := parseHTTPTime(ir)
			if w.lastModified == -1 || !ok || t != w.lastModified {
				w.headers = append(w.headers, acceptRangesHeader)
				return 0
			}
		}
	}
	max := math.MaxInt
	if r.conf.maxRanges >= 0 {
		max = r.conf.maxRanges
	}
	ranges, res := parseRanges(rv[6:], w.contentLength, max)
	switch res {
	case rangeOK:
	case rangeNotSatisfiable:
		w.status = 416
		w.addHeader("Content-Range", "bytes */"+strconv.FormatInt(w.contentLength, 10))
		w.contentLength = -1
		return 416
	default:
		w.headers = append(w.headers, acceptRangesHeader)
		return 0
	}
	w.status = 206
	w.statusText = ""
	w.statusLine = false
	w.ranges = ranges
	total := w.contentLength
	if len(ranges) == 1 {
		rg := ranges[0]
		w.addHeader("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rg.start, rg.end-1, total))
		w.contentLength = rg.end - rg.start
		return 0
	}
	// multipart/byteranges
	w.boundary = fmt.Sprintf("%020d", rangeBoundary.Add(1))
	partType := w.contentType
	if w.charset != "" {
		partType += "; charset=" + w.charset
	}
	w.contentType = "multipart/byteranges; boundary=" + w.boundary
	w.charset = ""
	w.partType = partType
	var n int64
	for _, rg := range ranges {
		n += int64(len(r.partHeader(rg, total))) + rg.end - rg.start
	}
	n += int64(len("\r\n--" + w.boundary + "--\r\n"))
	w.contentLength = n
	return 0
}

var rangeBoundary atomic.Uint64

var acceptRangesHeader = header{name: "Accept-Ranges", lower: "accept-ranges", value: "bytes"}

// partHeader is the header of one part of a multipart/byteranges body.
func (r *request) partHeader(rg byteRange, total int64) string {
	w := &r.resp
	s := "\r\n--" + w.boundary + "\r\n"
	if w.partType != "" {
		s += "Content-Type: " + w.partType + "\r\n"
	}
	return s + "Content-Range: bytes " + strconv.FormatInt(rg.start, 10) + "-" + strconv.FormatInt(rg.end-1, 10) + "/" + strconv.FormatInt(total, 10) + "\r\n\r\n"
}

type rangeResult uint8

const (
	rangeOK rangeResult = iota
	rangeNotSatisfiable
	rangeDeclined
)

// parseRanges is ngx_http_range_parse on the value after "bytes=".
func parseRanges(s string, length int64, maxRanges int) ([]byteRange, rangeResult) {
	var out []byteRange
	var size int64
	const cutoff, cutlim = math.MaxInt64 / 10, math.MaxInt64 % 10
	p := 0
	at := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	for {
		var start, end int64
		suffix := false
		for at(p) == ' ' {
			p++
		}
		if at(p) != '-' {
			if c := at(p); c < '0' || c > '9' {
				return nil, rangeNotSatisfiable
			}
			for c := at(p); c >= '0' && c <= '9'; c = at(p) {
				if start >= cutoff && (start > cutoff || int64(c-'0') > cutlim) {
					return nil, rangeNotSatisfiable
				}
				start = start*10 + int64(c-'0')
				p++
			}
			for at(p) == ' ' {
				p++
			}
			if at(p) != '-' {
				return nil, rangeNotSatisfiable
			}
			p++
			for at(p) == ' ' {
				p++
			}
			if c := at(p); c == ',' || c == 0 {
				end = length
				goto found
			}
		} else {
			suffix = true
			p++
		}
		if c := at(p); c < '0' || c > '9' {
			return nil, rangeNotSatisfiable
		}
		for c := at(p); c >= '0' && c <= '9'; c = at(p) {
			if end >= cutoff && (end > cutoff || int64(c-'0') > cutlim) {
				return nil, rangeNotSatisfiable
			}
			end = end*10 + int64(c-'0')
			p++
		}
		for at(p) == ' ' {
			p++
		}
		if c := at(p); c != ',' && c != 0 {
			return nil, rangeNotSatisfiable
		}
		if suffix {
			if end < length {
				start = length - end
			} else {
				start = 0
			}
			end = length - 1
		}
		if end >= length {
			end = length
		} else {
			end++
		}
	found:
		if start < end {
			if size > math.MaxInt64-(end-start) {
				return nil, rangeNotSatisfiable
			}
			size += end - start
			if maxRanges == 0 {
				return nil, rangeDeclined
			}
			maxRanges--
			out = append(out, byteRange{start, end})
		} else if start == 0 {
			return nil, rangeDeclined
		}
		if at(p) != ',' {
			break
		}
		p++
	}
	if len(out) == 0 {
		return nil, rangeNotSatisfiable
	}
	if size > length {
		return nil, rangeDeclined
	}
	return out, rangeOK
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
