package main

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"unicode"
)

// peerConf is what the Caddy and nginx configurations are made from.
type peerConf struct {
	// Dir is the peer's own folder (its configuration, logs, state).
	Dir string
	// Port is the TLS port it listens on, on 127.0.0.1.
	Port int
	// Backend is the backend's host:port.
	Backend string
	// CertFile and KeyFile are the test certificate (chain) and its key.
	CertFile, KeyFile string
	// AccessLog says whether to write an access log (to Dir/access.log).
	AccessLog bool
	// Workers is nginx's worker_processes (Caddy and Hearth get the same
	// GOMAXPROCS).
	Workers int
	// Host and DialHost are the names served (render sets them to
	// benchHost and benchDialHost).
	Host, DialHost string
}

// caddyfileText is Caddy's configuration: one site on 127.0.0.1 with the
// test certificate, in front of the backend with reverse_proxy's defaults
// but one: it keeps up to 64 idle upstream connections, like nginx's
// keepalive 64 (Caddy's default of 32 makes it open and close upstream
// connections all the time under wrk's 64). Automatic HTTPS is off: with the
// certificate given there is nothing to obtain, and it would open port 80
// for redirects.
//
// The site is benchHost alone, never "localhost": for a localhost site Caddy
// makes its internal CA and installs it into the system's trust stores
// (/usr/local/share/ca-certificates, Java's cacerts), whatever
// skip_install_trust says. Clients that send the SNI "localhost" get the
// same certificate through Caddy's catch-all connection policy.
const caddyfileText = `# Caddy in front of the proxy benchmark's backend (written by hearth-bench).
{
	admin off
	persist_config off
	auto_https off
	skip_install_trust
	storage file_system {{.Dir}}/data
	log {
		level WARN
	}
	servers {
		protocols h1 h2
	}
}

https://{{.Host}}:{{.Port}} {
	bind 127.0.0.1
	tls {{.CertFile}} {{.KeyFile}}
	reverse_proxy {{.Backend}} {
		transport http {
			keepalive_idle_conns_per_host 64
		}
	}
{{- if .AccessLog}}
	log {
		output file {{.Dir}}/access.log
	}
{{- end}}
}
`

// nginxConfText is nginx's configuration: Debian's defaults where they
// matter (proxy buffering), as many workers as the Go proxies get
// GOMAXPROCS, keep-alive to the upstream, the forwarded headers the other
// two set, and no cap on the requests one keep-alive connection may carry
// (nginx closes a connection after 1000 by default; Caddy and Hearth do not,
// and wrk would pay a new TLS handshake for it). TLS 1.3 cipher suites in
// Go's order, chosen by the server as Go does: left to OpenSSL's default
// nginx takes wrk's first choice, AES-256-GCM, where Caddy and Hearth use
// AES-128-GCM (the benchmark checks that all three negotiate the same).
const nginxConfText = `# nginx in front of the proxy benchmark's backend (written by hearth-bench).
daemon off;
master_process on;
worker_processes {{.Workers}};
user nobody nogroup;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;

events {
	worker_connections 1024;
}

http {
	access_log {{if .AccessLog}}{{.Dir}}/access.log{{else}}off{{end}};
	client_body_temp_path {{.Dir}}/tmp/client_body;
	proxy_temp_path {{.Dir}}/tmp/proxy;
	fastcgi_temp_path {{.Dir}}/tmp/fastcgi;
	uwsgi_temp_path {{.Dir}}/tmp/uwsgi;
	scgi_temp_path {{.Dir}}/tmp/scgi;
	keepalive_timeout 75s;
	keepalive_requests 1000000;

	upstream backend {
		server {{.Backend}};
		keepalive 64;
		keepalive_requests 1000000;
		keepalive_timeout 60s;
	}

	server {
		listen 127.0.0.1:{{.Port}} ssl http2;
		server_name {{.Host}} {{.DialHost}};
		ssl_certificate {{.CertFile}};
		ssl_certificate_key {{.KeyFile}};
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
		ssl_prefer_server_ciphers on;

		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $host;
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header X-Forwarded-Host $host;
		}
	}
}
`

// renderCaddyfile returns Caddy's configuration for c.
func renderCaddyfile(c peerConf) ([]byte, error) { return render("Caddyfile", caddyfileText, c) }

// renderNginxConf returns nginx's configuration for c.
func renderNginxConf(c peerConf) ([]byte, error) { return render("nginx.conf", nginxConfText, c) }

// validate refuses what either configuration language would read as more
// than one token, or as the end of a directive or block.
func (c peerConf) validate() error {
	for _, f := range []struct{ name, v string }{
		{"dir", c.Dir}, {"backend", c.Backend}, {"cert_file", c.CertFile}, {"key_file", c.KeyFile},
	} {
		if f.v == "" {
			return fmt.Errorf("peer config: %s: empty", f.name)
		}
		if i := strings.IndexFunc(f.v, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("\"'`;{}#$", r)
		}); i >= 0 {
			return fmt.Errorf("peer config: %s %q: character %q is not allowed", f.name, f.v, f.v[i])
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("peer config: port %d: must be 1..65535", c.Port)
	}
	if c.Workers < 1 || c.Workers > 1024 {
		return fmt.Errorf("peer config: workers %d: must be 1..1024", c.Workers)
	}
	return nil
}

// render executes the template text called name with c.
func render(name, text string, c peerConf) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	c.Host, c.DialHost = benchHost, benchDialHost
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, c); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}
