// Package templates embeds the text/template sources for every file wsgideck
// generates (uwsgi.ini, nginx.conf and site files, systemd units, the deploy
// README) and the stock files it ships beside them (mime.types, uwsgi_params,
// fastcgi_params).
//
// Layout of FS:
//
//	local/       the local development profile (*.tmpl)
//	production/  the production bundle (*.tmpl)
//	stock/       nginx's files, copied verbatim from Debian 12's nginx-common
//	             1.22.1 (/etc/nginx/mime.types, uwsgi_params, fastcgi_params)
//
// engine/configgen renders them; nothing else should need to read FS.
package templates

import "embed"

// FS holds every template and stock file, by path (for example
// "local/uwsgi.ini.tmpl" or "stock/mime.types").
//
//go:embed local production stock
var FS embed.FS
