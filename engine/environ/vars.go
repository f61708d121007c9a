package environ

import "github.com/wsgideck/wsgideck/engine/uwsgiproto"

// FromVars appends a uwsgi request's vars to e, in wire order and with
// duplicates kept (the worker's dict keeps the last one, as uWSGI does), then
// wsgi.url_scheme. blockSize is the vars block size from the packet header.
func FromVars(e *Env, vars uwsgiproto.Vars, blockSize int) Info {
	info, _ := fromVars(e, vars)
	info.Vars = 2 * len(vars)
	info.VarsBytes = blockSize
	return info
}

// FromParams appends a FastCGI request's params to e, like FromVars. Params
// arrive as uwsgi vars, the same name/value pairs (uWSGI converts them the
// same way).
//
// nginx's stock fastcgi_params sends SCRIPT_NAME=$fastcgi_script_name and no
// PATH_INFO, which leaves a WSGI app routing every request to "/" under a
// SCRIPT_NAME equal to the whole path. When PATH_INFO is absent, PATH_INFO is
// set from DOCUMENT_URI (else SCRIPT_NAME) and SCRIPT_NAME to "", so stock
// configs work; a config that sends PATH_INFO itself is left alone.
func FromParams(e *Env, params uwsgiproto.Vars) Info {
	info, seen := fromVars(e, params)
	if !seen.pathInfo {
		p := seen.documentURI
		if p == "" {
			p = seen.scriptName
		}
		e.Add("PATH_INFO", p)
		e.Add("SCRIPT_NAME", "")
		info.PathInfo = p
	}
	info.Vars = 2 * e.pairs
	info.VarsBytes = e.size
	return info
}

type seenVars struct {
	pathInfo                bool
	documentURI, scriptName string
}

func fromVars(e *Env, vars uwsgiproto.Vars) (Info, seenVars) {
	var info Info
	var seen seenVars
	var https, scheme, query string
	for _, v := range vars {
		e.Add(v.Key, v.Value)
		switch v.Key {
		case "REQUEST_METHOD":
			info.Method = v.Value
		case "REQUEST_URI":
			info.URI = v.Value
		case "PATH_INFO":
			info.PathInfo = v.Value
			seen.pathInfo = true
		case "QUERY_STRING":
			query = v.Value
		case "SERVER_PROTOCOL":
			info.Proto = v.Value
		case "REMOTE_ADDR":
			info.RemoteAddr = v.Value
		case "REMOTE_PORT":
			info.RemotePort = v.Value
		case "REMOTE_USER":
			info.RemoteUser = v.Value
		case "CONTENT_LENGTH":
			info.ContentLength = leadingDigits(v.Value)
		case "HTTPS":
			https = v.Value
		case "UWSGI_SCHEME", "HTTP_X_FORWARDED_PROTO":
			scheme = v.Value
		case "DOCUMENT_URI":
			seen.documentURI = v.Value
		case "SCRIPT_NAME":
			seen.scriptName = v.Value
		}
	}
	if info.URI == "" {
		info.URI = info.PathInfo
		if query != "" {
			info.URI += "?" + query
		}
	}
	e.AddExtra("wsgi.url_scheme", Scheme(scheme, https))
	return info, seen
}

// leadingDigits is uWSGI's get_content_length: the value of the leading
// decimal digits, 0 when there are none.
func leadingDigits(s string) int64 {
	var n int64
	for i := 0; i < len(s) && i < 18; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
