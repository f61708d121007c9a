// Package templates embeds the text/template sources for every file wsgideck
// generates (uwsgi.ini, nginx.conf and site files, systemd units, the deploy
// README) and the stock files it ships beside them (mime.types, uwsgi_params,
// fastcgi_params).
package templates

import "embed"

// FS holds every template and stock file, by file name.
//
//go:embed *
var FS embed.FS
