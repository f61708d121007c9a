// Package crosscheck reads a project's uwsgi.ini and nginx.conf together
// and reports every way they disagree, naming both files and lines:
//
//   - the upstream nginx passes to (uwsgi_pass, proxy_pass, fastcgi_pass,
//     directly or through an upstream {} group) must be an address the
//     engine listens on, and speak its protocol: uwsgi_pass needs socket,
//     proxy_pass needs http-socket (or http), fastcgi_pass needs
//     fastcgi-socket. Sending HTTP to a uwsgi socket is the classic
//     "invalid request block size: 21573" failure;
//   - buffer-size must hold the largest request head nginx may send: with
//     large_client_header_buffers at its default of 4 8k a request may
//     carry about 32k of headers, while uWSGI's default buffer-size is
//     4096, so a big cookie gives a 502;
//   - the static folders (root, alias, static-map) must exist;
//   - the ports must be free, and when one is not, the finding names the
//     process holding it (pid and name, through gopsutil) and offers the
//     next free port as a Fix that rewrites both files consistently;
//   - host names in passes and upstream servers must resolve, and a bare
//     name must be an upstream {} group.
//
// Each Finding has a severity, a message in the form "nginx.conf:12
// uwsgi_pass 127.0.0.1:3031, but uwsgi.ini:3 http-socket = :3031 speaks
// HTTP: use proxy_pass there, or socket = here.", the locations it talks
// about, and Fixes. A Fix edits the two documents in memory through
// engine/confedit's lossless editors; the caller reviews (Diff), validates
// and saves them.
package crosscheck
