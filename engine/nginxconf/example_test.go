package nginxconf_test

import (
	"fmt"

	"github.com/wsgideck/wsgideck/engine/nginxconf"
)

func ExampleLoadSource() {
	src := []byte(`events {}
http {
    server {
        listen 127.0.0.1:8080;
        location ^~/static/ { alias /srv/app/static/; }
        location / {
            uwsgi_pass unix:/run/app.sock;
            uwsgi_read_timeout 1m;
        }
    }
}
`)
	cfg, err := nginxconf.LoadSource("/etc/wsgideck/nginx.conf", src, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	http := cfg.Main.Block.Get("http")
	for _, srv := range http.Block.Find("server") {
		fmt.Println("listen", srv.Block.Get("listen").Arg(0))
		for _, loc := range srv.Block.Find("location") {
			l, _ := loc.Location()
			fmt.Printf("location %s %s at %s\n", l.Kind, l.Path, loc.Where())
			if t := loc.Block.Get("uwsgi_read_timeout"); t != nil {
				d, _ := nginxconf.ParseDuration(t.Arg(0))
				fmt.Println("  read timeout", d)
			}
		}
	}
	// Output:
	// listen 127.0.0.1:8080
	// location prefix-noregex /static/ at /etc/wsgideck/nginx.conf:5
	// location prefix / at /etc/wsgideck/nginx.conf:6
	//   read timeout 1m0s
}

func ExampleBlock_Append() {
	f, _ := nginxconf.Parse("site.conf", []byte("server {\n\tlisten 80; # public\n}\n"))
	srv := f.Block.Directives[0]
	_ = srv.Block.Directives[0].SetArg(0, "8080")
	loc := nginxconf.NewBlockDirective("location", []string{"/"},
		nginxconf.NewDirective("uwsgi_pass", "unix:/run/app.sock"),
		nginxconf.NewDirective("include", "uwsgi_params"))
	_, _ = srv.Block.Append(loc)
	fmt.Print(string(f.Bytes()))
	// Output:
	// server {
	// 	listen 8080; # public
	// 	location / {
	// 		uwsgi_pass unix:/run/app.sock;
	// 		include uwsgi_params;
	// 	}
	// }
}

func ExampleConfig_Check() {
	cfg, err := nginxconf.LoadSource("/etc/nginx/nginx.conf", []byte("events {}\nhttp {\n  sendfile on;\n  location / {}\n}\n"), nil)
	fmt.Println(err)
	for _, d := range cfg.Diagnostics {
		fmt.Printf("[%s] %s\n", d.Severity, d)
	}
	// Output:
	// "location" directive is not allowed here in /etc/nginx/nginx.conf:4
	// [warn] "sendfile" directive has no effect in wsgideck in /etc/nginx/nginx.conf:3
	// [emerg] "location" directive is not allowed here in /etc/nginx/nginx.conf:4
}
