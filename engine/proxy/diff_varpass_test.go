package proxy

import (
	"fmt"
	"strings"
	"testing"
)

// *_pass addresses made of variables, as nginx finds their upstream: an
// upstream block by name, the implicit group of a literal *_pass with the
// same host and port, an IP address, and a host name only with a
// resolver (else 502 "no resolver defined").
func TestDiffVariablePassAddresses(t *testing.T) {
	be := startBackend(t, "V")
	port := be.addr()[strings.LastIndexByte(be.addr(), ':')+1:]
	p := newPair(t, `
    upstream grp { server `+be.addr()+`; }
    server {
        listen {{LISTEN}};
        server_name localhost;
        location /literal/ { proxy_pass http://LocalHost:`+port+`; }
        location /implicit/ { set $be localhost:`+port+`; proxy_pass http://$be; }
        location /ip/ { set $be 127.0.0.1:`+port+`; proxy_pass http://$be/ip-uri$request_uri; }
        location /grp/ { set $g grp; proxy_pass http://$g; }
        location /grpcase/ { set $g GRP; proxy_pass http://$g; }
        location /literalcase/ { proxy_pass http://Grp; }
        location /grpport/ { set $g grp:80; proxy_pass http://$g; }
        location /noresolver/ { set $h ip6-localhost:`+port+`; proxy_pass http://$h; }
        location /uwimplicit/ { set $be localhost:`+port+`; uwsgi_pass $be; uwsgi_read_timeout 200ms; }
        location /uwnoresolver/ { set $be ip6-localhost:`+port+`; uwsgi_pass $be; }
        location /uwnoport/ { set $be ip6-localhost; uwsgi_pass $be; }
        location /fcgrp/ { set $g grp; fastcgi_pass $g; fastcgi_read_timeout 200ms; }
    }`)
	p.run([]dcase{
		{path: "/literal/x"},
		{path: "/implicit/x?q=1"},
		{path: "/ip/x?q=1"},
		{path: "/grp/x"},
		{path: "/grpcase/x"},
		{path: "/literalcase/x"},
		{path: "/grpport/x"},
		{path: "/noresolver/x"},
		{path: "/uwimplicit/x"},
		{path: "/uwnoresolver/x"},
		{path: "/uwnoport/x"},
		{path: "/fcgrp/x"},
	})
}

// With a resolver, a host name made of variables is looked up (with the
// system's resolver, not the addresses the directive names); the
// resolver is inherited from the server level.
func TestVariablePassWithResolver(t *testing.T) {
	be := startBackend(t, "R")
	port := be.addr()[strings.LastIndexByte(be.addr(), ':')+1:]
	listen := freeBothPort(t)
	cfg := compileText(t, t.TempDir(), fmt.Sprintf(`
events {}
http {
    access_log off;
    server {
        listen 127.0.0.1:%d;
        resolver 192.0.2.1;
        location / { set $h localhost:%s; proxy_pass http://$h; }
    }
}`, listen, port))
	startServer(t, cfg, Options{})
	resp, body := get(t, "tcp", fmt.Sprintf("127.0.0.1:%d", listen), "/x")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "backend R\n") {
		t.Errorf("with a resolver: %d %q", resp.StatusCode, body)
	}
}
