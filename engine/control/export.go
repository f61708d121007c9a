package control

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsgideck/wsgideck/engine/configgen"
	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

// ExportCheck is the result of one real program checking an exported file.
type ExportCheck struct {
	Tool      string // "nginx -t", "uwsgi --strict"
	File      string // the file checked
	Installed bool   // false: the program is not on this machine; nothing was checked
	OK        bool
	Output    string // what the program said, and what was stood in for
}

// Where the peers are looked for besides PATH (Debian's places).
var (
	nginxPaths = []string{"/usr/sbin/nginx"}
	uwsgiPaths = []string{"/usr/bin/uwsgi"}
)

// CheckExport validates a production bundle with the real programs when
// they are installed: nginx -t on the site file, included from a scratch
// main config the way Debian's nginx.conf includes sites-enabled, and
// uWSGI in strict mode (an unknown option is an error) reading uwsgi.ini.
// Paths only the server has are stood in for in a scratch folder (log
// files, which nginx -t opens; a missing TLS certificate, which it
// reads), and the result says so. A program that is not installed gives
// Installed false and says so, rather than a pass.
func CheckExport(ctx context.Context, files configgen.Files) []ExportCheck {
	var out []ExportCheck
	if site, ok := files[configgen.FileNginxSite]; ok {
		out = append(out, checkNginxSite(ctx, site))
	}
	if ini, ok := files[configgen.FileUWSGIIni]; ok {
		out = append(out, checkUWSGIIni(ctx, ini))
	}
	return out
}

func findTool(name string, fallbacks []string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, f := range fallbacks {
		if st, err := os.Stat(f); err == nil && !st.IsDir() {
			return f
		}
	}
	return ""
}

func checkNginxSite(ctx context.Context, site []byte) ExportCheck {
	c := ExportCheck{Tool: "nginx -t", File: configgen.FileNginxSite}
	bin := findTool("nginx", nginxPaths)
	if bin == "" {
		c.Output = "nginx is not installed on this machine, so the site file was not checked by it (wsgideck's own checks still ran)."
		return c
	}
	c.Installed = true
	dir, err := os.MkdirTemp("", "wsgideck-nginx-t-")
	if err != nil {
		c.Output = err.Error()
		return c
	}
	defer os.RemoveAll(dir)
	src, notes, err := standInPaths(dir, site)
	if err != nil {
		c.Output = err.Error()
		return c
	}
	for _, name := range []string{"mime.types", "uwsgi_params", "fastcgi_params"} {
		if data, err := configgen.Stock(name); err == nil {
			os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
	}
	os.WriteFile(filepath.Join(dir, "site.conf"), src, 0o644)
	main := "pid " + filepath.Join(dir, "nginx.pid") + ";\nerror_log stderr;\nevents {}\nhttp {\n    include mime.types;\n    include site.conf;\n}\n"
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		c.Output = err.Error()
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := exec.CommandContext(ctx, bin, "-t", "-e", "stderr", "-p", dir+"/", "-c", conf).CombinedOutput()
	c.Output = strings.TrimSpace(strings.ReplaceAll(string(res), filepath.Join(dir, "site.conf"), configgen.FileNginxSite))
	c.OK = err == nil && bytes.Contains(res, []byte("test is successful"))
	if len(notes) > 0 {
		c.Output += "\n" + strings.Join(notes, "\n")
	}
	return c
}

// standInPaths rewrites the site's log paths into dir/logs (nginx -t
// creates the log files it names, and the check must leave nothing in
// /var/log), and gives it a throwaway certificate when the one it names
// does not exist here. It returns the new text and notes saying what was
// stood in for.
func standInPaths(dir string, site []byte) ([]byte, []string, error) {
	f, err := nginxconf.Parse(configgen.FileNginxSite, site)
	if err != nil && f == nil {
		return site, nil, err
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return site, nil, err
	}
	var notes []string
	var cert, key string
	var certDirs, keyDirs []*nginxconf.Directive
	var logDirs []*nginxconf.Directive
	f.Walk(func(d *nginxconf.Directive) bool {
		switch d.Name {
		case "access_log", "error_log":
			p := d.Arg(0)
			if filepath.IsAbs(p) && !strings.HasPrefix(p, "/dev/") {
				logDirs = append(logDirs, d)
			}
		case "ssl_certificate":
			cert = d.Arg(0)
			certDirs = append(certDirs, d)
		case "ssl_certificate_key":
			key = d.Arg(0)
			keyDirs = append(keyDirs, d)
		}
		return true
	})
	for _, d := range logDirs {
		if err := d.SetArg(0, filepath.Join(logs, filepath.Base(d.Arg(0)))); err != nil {
			return site, nil, err
		}
	}
	if len(logDirs) > 0 {
		notes = append(notes, "(the log files were put in a scratch folder for the test: nginx -t creates the files it names)")
	}
	if len(certDirs) > 0 && (!fileExists(cert) || !fileExists(key)) {
		cp, kp := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := writeStandInCert(cp, kp); err != nil {
			return site, nil, err
		}
		for _, d := range certDirs {
			d.SetArg(0, cp)
		}
		for _, d := range keyDirs {
			d.SetArg(0, kp)
		}
		notes = append(notes, "(the certificate "+cert+" does not exist on this machine: a throwaway self-signed one stood in for it)")
	}
	return f.Bytes(), notes, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// writeStandInCert writes a self-signed certificate and its key.
func writeStandInCert(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wsgideck export check"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

// checkUWSGIIni has the real uWSGI read uwsgi.ini in strict mode, where an
// unknown option is an error, and exit at once (--get prints one option).
func checkUWSGIIni(ctx context.Context, ini []byte) ExportCheck {
	c := ExportCheck{Tool: "uwsgi --strict", File: configgen.FileUWSGIIni}
	bin := findTool("uwsgi", uwsgiPaths)
	if bin == "" {
		c.Output = "uWSGI is not installed on this machine, so uwsgi.ini was not checked by it (wsgideck's own checks still ran)."
		return c
	}
	c.Installed = true
	dir, err := os.MkdirTemp("", "wsgideck-uwsgi-")
	if err != nil {
		c.Output = err.Error()
		return c
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, configgen.FileUWSGIIni)
	if err := os.WriteFile(path, ini, 0o644); err != nil {
		c.Output = err.Error()
		return c
	}
	args := []string{"--strict"}
	if !bytes.Contains(ini, []byte("plugins")) {
		// A pip-installed uWSGI has Python built in; Debian's needs the
		// plugin to know the Python options.
		args = append(args, "--plugins", "python3")
	}
	args = append(args, "--ini", path, "--get", "processes")
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // --get prints the value on stdout
	err = cmd.Run()
	c.Output = strings.TrimSpace(strings.ReplaceAll(stderr.String(), path, configgen.FileUWSGIIni))
	c.OK = err == nil
	if c.OK {
		c.Output = strings.TrimSpace(c.Output + "\nuWSGI read every option (strict mode: an unknown option would have failed).")
	} else if c.Output == "" {
		c.Output = err.Error()
	}
	return c
}
