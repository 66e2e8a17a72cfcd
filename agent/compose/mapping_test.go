package compose

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hearthbox/hearth/agent/manifest"
)

// TestMappings imports small projects and checks how each key is mapped.
func TestMappings(t *testing.T) {
	sec := func(n int) *manifest.Generate { return &manifest.Generate{Length: n, Charset: manifest.CharsetAlnum} }
	for _, tc := range []struct {
		name    string
		compose string
		more    map[string]string
		check   func(t *testing.T, p *Plan, m *manifest.Manifest)
	}{
		{"volumes", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    volumes:
      - data:/data
      - ./conf:/conf:ro
      - /DATA/AppData/$AppID/db:/db
      - /DATA/Media/TV Shows:/tv
      - /etc/localtime:/etc/localtime:ro
      - type: tmpfs
        target: /cache
    tmpfs: [/run, /scratch]
volumes:
  data: {}
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			s := m.Services["web"]
			want := []manifest.Volume{{Source: "volumes/data", Target: "/data"}, {Source: "conf", Target: "/conf", ReadOnly: true}, {Source: "db", Target: "/db"}}
			if diff := cmp.Diff(want, s.Volumes); diff != "" {
				t.Errorf("volumes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]manifest.SharedFolder{{Name: "media-tv-shows", Target: "/tv"}}, s.SharedFolders); diff != "" {
				t.Errorf("shared folders (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"/cache", "/scratch"}, s.Tmpfs); diff != "" {
				t.Errorf("tmpfs (-want +got):\n%s", diff)
			}
			if !m.Has(manifest.PermSharedFolders) {
				t.Error("no shared-folders permission")
			}
			checkWarning(t, p, "web", "volumes[4]", "is not mounted")
		}},
		{"the data folder mounted whole", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    volumes: ["/DATA/AppData/$AppID:/all", "/DATA/AppData/$AppID/sub:/sub"]
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			want := []manifest.Volume{{Source: "appdata", Target: "/all"}, {Source: "appdata/sub", Target: "/sub"}}
			if diff := cmp.Diff(want, m.Services["web"].Volumes); diff != "" {
				t.Errorf("volumes (-want +got):\n%s", diff)
			}
		}},
		{"volumes_from", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    volumes: [data:/data]
  backup:
    image: b:1
    volumes_from: ["web:ro"]
volumes: {data: {}}
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if diff := cmp.Diff([]manifest.Volume{{Source: "volumes/data", Target: "/data", ReadOnly: true}}, m.Services["backup"].Volumes); diff != "" {
				t.Errorf("volumes (-want +got):\n%s", diff)
			}
		}},
		{"security", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    privileged: true
    cap_drop: [ALL]
    devices: ["/dev/dri:/dev/dri", "/dev/serial/by-id/usb-1:/dev/ttyACM0"]
  vpn:
    image: b:1
    cap_add: [net_admin, CAP_CHOWN]
    cap_drop: [KILL]
    sysctls: [net.ipv4.ip_forward=1]
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if len(m.Services["web"].Capabilities) != 0 || !m.Services["web"].Privileged {
				t.Errorf("web: got capabilities %v and privileged %v, want none and true", m.Services["web"].Capabilities, m.Services["web"].Privileged)
			}
			if diff := cmp.Diff([]string{"/dev/dri", "/dev/serial/by-id/usb-1"}, m.Services["web"].Devices); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
			want := []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "NET_ADMIN", "NET_BIND_SERVICE", "SETGID", "SETUID"}
			if diff := cmp.Diff(want, m.Services["vpn"].Capabilities); diff != "" {
				t.Errorf("vpn capabilities (-want +got):\n%s", diff)
			}
			wantPerms := []manifest.Permission{manifest.PermInternet, manifest.PermDevices, manifest.PermPrivilegedCapabilities, manifest.PermPrivileged}
			if diff := cmp.Diff(wantPerms, p.Permissions); diff != "" {
				t.Errorf("permissions (-want +got):\n%s", diff)
			}
			checkWarning(t, p, "web", "devices[1]", "appears at its own path")
			if diff := cmp.Diff(map[string]string{"net.ipv4.ip_forward": "1"}, m.Services["vpn"].Sysctls); diff != "" {
				t.Errorf("vpn sysctls (-want +got):\n%s", diff)
			}
		}},
		{"shm_size", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    shm_size: 200m
  small:
    image: b:1
    mem_limit: 64m
    shm_size: 2gb
  big:
    image: c:1
    mem_limit: 4g
    shm_size: 3gb
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			got := map[string]manifest.Size{}
			for n, s := range m.Services {
				got[n] = s.ShmSize
			}
			want := map[string]manifest.Size{"web": 200 * manifest.Mi, "small": 64 * manifest.Mi, "big": manifest.Gi}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("shmSize (-want +got):\n%s", diff)
			}
			checkWarning(t, p, "small", "shm_size", "/dev/shm gets 64Mi")
			checkWarning(t, p, "big", "shm_size", "/dev/shm gets 1Gi")
			if hasWarning(p, "web", "shm_size", "") {
				t.Errorf("got a shm_size warning for web, want none: %v", p.Warnings)
			}
		}},
		{"headless", `
services:
  sync:
    image: a:1
    expose: ["8080"]
    volumes: [state:/state]
volumes:
  state: {}
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if name, port, ok := m.HTTPService(); ok {
				t.Errorf("got web entry %s:%d, want none", name, port)
			}
			if m.Has(manifest.PermPorts) {
				t.Error("got the ports permission, want none")
			}
			checkWarning(t, p, "", "ports", "runs headless")
		}},
		{"tuners and the Raspberry Pi's video core", `
services:
  web:
    image: a:1
    ports: ["32400:32400"]
    devices: ["/dev/dvb:/dev/dvb", "/dev/vchiq:/dev/vchiq", "/dev/vcsm:/dev/vcsm"]
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if diff := cmp.Diff([]string{"/dev/dvb", "/dev/vchiq", "/dev/vcsm"}, m.Services["web"].Devices); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
			if !m.Has(manifest.PermDevices) {
				t.Error("no devices permission")
			}
		}},
		{"host networking", `
services:
  web:
    image: a:1
    network_mode: host
    ports: ["1900:1900/udp"]
    sysctls: {net.core.somaxconn: 1024}
  other:
    image: b:1
x-casaos:
  port_map: "8123"
  main: web
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if m.Services["web"].HTTPPort != 8123 {
				t.Errorf("httpPort: got %d, want 8123", m.Services["web"].HTTPPort)
			}
			if !m.Services["web"].HostNetwork || len(m.Services["web"].Ports) != 0 {
				t.Errorf("web: got hostNetwork %v and ports %v, want true and none", m.Services["web"].HostNetwork, m.Services["web"].Ports)
			}
			if diff := cmp.Diff([]manifest.Permission{manifest.PermInternet, manifest.PermHostNetwork}, p.Permissions); diff != "" {
				t.Errorf("permissions (-want +got):\n%s", diff)
			}
			checkWarning(t, p, "web", "ports[0]", "listens on the host's port 1900 itself")
			checkWarning(t, p, "web", "sysctls.net.core.somaxconn", "host's network")
			checkWarning(t, p, "web", "network_mode", "cannot reach it by name")
		}},
		{"host access", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    pid: host
    cap_add: [SYS_ADMIN, NET_ADMIN]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - /run/dbus:/run/dbus:ro
      - /opt/vc/lib:/opt/vc/lib
      - /etc/passwd:/host/etc/passwd:ro
      - /DATA/AppData:/all-apps
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			s := m.Services["web"]
			want := []manifest.Volume{
				{Kind: "host", Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"},
				{Kind: "host", Source: "/run/dbus", Target: "/run/dbus", ReadOnly: true},
				{Kind: "host", Source: "/opt/vc/lib", Target: "/opt/vc/lib"},
				{Kind: "host", Source: "/etc/passwd", Target: "/host/etc/passwd", ReadOnly: true},
				{Kind: "host", Source: "/DATA/AppData", Target: "/all-apps"},
			}
			if diff := cmp.Diff(want, s.Volumes); diff != "" {
				t.Errorf("volumes (-want +got):\n%s", diff)
			}
			if !s.HostPID || s.Privileged || s.HostNetwork {
				t.Errorf("got hostPID %v, privileged %v, hostNetwork %v, want true, false, false", s.HostPID, s.Privileged, s.HostNetwork)
			}
			if diff := cmp.Diff([]string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "NET_ADMIN", "NET_BIND_SERVICE", "SETGID", "SETUID", "SYS_ADMIN"}, s.Capabilities); diff != "" {
				t.Errorf("capabilities (-want +got):\n%s", diff)
			}
			wantPerms := []manifest.Permission{manifest.PermInternet, manifest.PermPrivilegedCapabilities, manifest.PermHostFiles,
				manifest.PermContainerEngine, manifest.PermHostPID, manifest.PermPrivileged}
			if diff := cmp.Diff(wantPerms, p.Permissions); diff != "" {
				t.Errorf("permissions (-want +got):\n%s", diff)
			}
			checkWarning(t, p, "web", "volumes[0]", "installs only where the host has one")
		}},
		{"cap_add ALL", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    cap_add: [ALL]
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if got, want := len(m.Services["web"].Capabilities), len(basicCaps)+len(privilegedCaps)+len(hostCaps); got != want {
				t.Errorf("got %d capabilities, want %d", got, want)
			}
			if diff := cmp.Diff([]manifest.Permission{manifest.PermInternet, manifest.PermPrivilegedCapabilities, manifest.PermPrivileged}, p.Permissions); diff != "" {
				t.Errorf("permissions (-want +got):\n%s", diff)
			}
		}},
		{"configs and secrets", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    environment:
      DB_URL: postgres://app:hunter2hunter2@db/app
    configs:
      - source: site
        target: /etc/nginx/conf.d/site.conf
      - app.yml
      - source: fromfile
        target: /etc/app/extra.conf
        mode: 0440
    secrets:
      - db_password
      - source: tls_key
        target: /certs/key.pem
configs:
  site:
    content: |
      server { listen 80; location / { proxy_pass http://api:3000; } }
      # {{ not a reference }}
  app.yml:
    content: "url: https://${APP_DOMAIN}\n"
  fromfile:
    file: ./conf/extra.conf
secrets:
  db_password:
    file: ./db_password.txt
  tls_key:
    file: ./key.pem
`, map[string]string{"conf/extra.conf": "extra = 1\n", "db_password.txt": "hunter2hunter2\n", "key.pem": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"}, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			want := []manifest.File{
				{Target: "/etc/nginx/conf.d/site.conf", Content: "server { listen 80; location / { proxy_pass http://api:3000; } }\n# {{\"{{\"}} not a reference }}\n"},
				{Target: "/app.yml", Content: "url: https://{{app.domain}}\n"},
				{Target: "/etc/app/extra.conf", Content: "extra = 1\n"},
				{Target: "/run/secrets/db_password", Content: "{{settings.db_password}}\n"},
				{Target: "/certs/key.pem", Content: "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"},
			}
			if diff := cmp.Diff(want, m.Services["web"].Files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if got, want := m.Services["web"].Environment["DB_URL"], "postgres://app:{{settings.db_password}}@db/app"; got != want {
				t.Errorf("DB_URL: got %q, want %q (the secret's setting)", got, want)
			}
			checkWarning(t, p, "web", "configs[2]", "uid, gid and mode are not kept")
			checkWarning(t, p, "web", "secrets[1]", "is given as the project has it")
			if len(p.Permissions) != 1 {
				t.Errorf("got permissions %v, want internet only", p.Permissions)
			}
		}},
		{"ports", `
services:
  web:
    image: a:1
    ports: ["8443:443", "8080:80", "127.0.0.1:9000:9000", "53:53/udp", "6881-6882:6881-6882"]
  other:
    image: b:1
    ports: ["53:53/udp"]
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			s := m.Services["web"]
			if s.HTTPPort != 80 {
				t.Errorf("httpPort: got %d, want 80", s.HTTPPort)
			}
			want := []manifest.Port{{Port: 443, Protocol: "tcp"}, {Port: 53, Protocol: "udp"}, {Port: 6881, Protocol: "tcp"}, {Port: 6882, Protocol: "tcp"}}
			for i := range want {
				want[i].Reason = portReason
			}
			if diff := cmp.Diff(want, s.Ports); diff != "" {
				t.Errorf("ports (-want +got):\n%s", diff)
			}
			checkWarning(t, p, "web", "ports[0]", "published as 8443")
			checkWarning(t, p, "web", "ports[2]", "loopback")
			checkWarning(t, p, "other", "ports[0]", "already published by web")
			checkWarning(t, p, "web", "ports", "taken as the app's web page")
		}},
		{"traefik label", `
services:
  app:
    image: a:1
    labels: ["traefik.http.services.app.loadbalancer.server.port=3000"]
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if m.Services["app"].HTTPPort != 3000 {
				t.Errorf("httpPort: got %d, want 3000", m.Services["app"].HTTPPort)
			}
		}},
		{"process", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    entrypoint: /bin/run --fast
    command: ["serve", "--port=80"]
    user: node
    working_dir: /srv/app/../app
  job:
    image: b:1
    entrypoint: []
    command: ["/job", "run"]
    user: "1000:1000"
  root:
    image: c:1
    user: root
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			w := m.Services["web"]
			if !cmp.Equal(w.Entrypoint, []string{"/bin/run", "--fast"}) || !cmp.Equal(w.Command, []string{"serve", "--port=80"}) {
				t.Errorf("web: got entrypoint %q command %q", w.Entrypoint, w.Command)
			}
			if w.User != "" || w.WorkingDir != "/srv/app" {
				t.Errorf("web: got user %q working dir %q, want none and /srv/app", w.User, w.WorkingDir)
			}
			checkWarning(t, p, "web", "user", "not numeric")
			j := m.Services["job"]
			if !cmp.Equal(j.Entrypoint, []string{"/job", "run"}) || j.Command != nil || j.User != "1000:1000" {
				t.Errorf("job: got entrypoint %q command %q user %q", j.Entrypoint, j.Command, j.User)
			}
			if m.Services["root"].User != "0" {
				t.Errorf("root: got user %q, want 0", m.Services["root"].User)
			}
		}},
		{"health and order", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_healthy}
      init: {condition: service_completed_successfully}
      worker: {condition: service_started}
  db:
    image: postgres:16
    healthcheck:
      test: pg_isready -U app
      interval: 500ms
      timeout: 20s
      retries: 500
      start_period: 2h
  cache:
    image: redis:7
  init:
    image: b:1
    healthcheck: {test: ["NONE"]}
  worker:
    image: c:1
    healthcheck:
      test: ["CMD", "wget", "-q", "--spider", "http://localhost:8080/ready"]
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			want := []manifest.Dependency{{Service: "cache"}, {Service: "db", Condition: manifest.ConditionHealthy}, {Service: "init"}, {Service: "worker"}}
			if diff := cmp.Diff(want, m.Services["web"].DependsOn); diff != "" {
				t.Errorf("dependsOn (-want +got):\n%s", diff)
			}
			db := m.Services["db"].HealthCheck
			wantDB := &manifest.HealthCheck{Command: []string{"/bin/sh", "-c", "pg_isready -U app"}, Interval: manifest.Duration(1e9), Timeout: manifest.Duration(1e9), StartPeriod: manifest.Duration(3600e9), Retries: 100}
			if diff := cmp.Diff(wantDB, db); diff != "" {
				t.Errorf("db health (-want +got):\n%s", diff)
			}
			if hc := m.Services["worker"].HealthCheck; hc == nil || hc.HTTP == nil || *hc.HTTP != (manifest.HTTPCheck{Path: "/ready", Port: 8080}) || hc.Interval != manifest.Duration(30e9) {
				t.Errorf("worker health: got %+v, want HTTP /ready on 8080 every 30s", hc)
			}
			if m.Services["init"].HealthCheck != nil {
				t.Error("init: NONE gave a health check")
			}
			checkWarning(t, p, "web", "depends_on.cache", "no health check")
			checkWarning(t, p, "web", "depends_on.init", "run-once")
			checkWarning(t, p, "db", "healthcheck.interval", "less than")
		}},
		{"passwords", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    environment:
      DB_URL: postgres://app:hunter22@db/app
      DB_USER: hunter22
      APP_KEY: base64:yvmG/RnzKrbCb9L3mgsmoxXr9H7i2Z4qlbT0mL3ln4w=
      SESSION_SECRET: ${SESSION_SECRET}
      OPENAI_API_KEY: ""
      DISABLE_PASSWORD: "false"
      PASSWORD_FILE: /run/secrets/pw
  db:
    image: postgres:16
    environment: [POSTGRES_PASSWORD=hunter22]
  cache:
    image: redis:7
    command: redis-server --requirepass hunter22
`, map[string]string{".env": "SESSION_SECRET=from-the-file\n"}, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			env := m.Services["web"].Environment
			want := map[string]string{
				"DB_URL": "postgres://app:{{settings.postgres_password}}@db/app", "DB_USER": "hunter22",
				"APP_KEY": "base64:{{settings.app_key}}=", "SESSION_SECRET": "{{settings.session_secret}}",
				"OPENAI_API_KEY": "{{settings.openai_api_key}}", "DISABLE_PASSWORD": "false", "PASSWORD_FILE": "/run/secrets/pw",
			}
			if diff := cmp.Diff(want, env); diff != "" {
				t.Errorf("web environment (-want +got):\n%s", diff)
			}
			if got := m.Services["db"].Environment["POSTGRES_PASSWORD"]; got != "{{settings.postgres_password}}" {
				t.Errorf("db: got %q", got)
			}
			if diff := cmp.Diff([]string{"redis-server", "--requirepass", "{{settings.postgres_password}}"}, m.Services["cache"].Command); diff != "" {
				t.Errorf("cache command (-want +got):\n%s", diff)
			}
			wantSettings := []manifest.Setting{
				{ID: "app_key", Type: manifest.TypeSecret, Generate: &manifest.Generate{Length: 43, Charset: manifest.CharsetAlnum}},
				{ID: "openai_api_key", Type: manifest.TypePassword},
				{ID: "postgres_password", Type: manifest.TypeSecret, Generate: sec(32)},
				{ID: "session_secret", Type: manifest.TypeSecret, Generate: sec(32)},
			}
			got := m.Settings
			for i := range got {
				got[i].Label, got[i].Description = "", ""
			}
			if diff := cmp.Diff(wantSettings, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		}},
		{"host names", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    environment:
      DB_HOST: my-postgres
      DB_TYPE: postgres
      CACHE_URL: redis://cache-alias:6379
      PEER: http://old_name:8080/x
    command: ["--db", "my-postgres:5432"]
  db:
    image: postgres:16
    container_name: my-postgres
  cache:
    image: redis:7
    networks:
      default:
        aliases: [cache-alias]
  old_name:
    image: b:1
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			want := map[string]string{
				"DB_HOST": "{{services.db.host}}", "DB_TYPE": "postgres",
				"CACHE_URL": "redis://{{services.cache.host}}:6379", "PEER": "http://{{services.old-name.host}}:8080/x",
			}
			if diff := cmp.Diff(want, m.Services["web"].Environment); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"--db", "{{services.db.host}}:5432"}, m.Services["web"].Command); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			checkWarning(t, p, "old_name", "", `named "old-name"`)
			checkWarning(t, p, "db", "container_name", "my-postgres")
		}},
		{"variables", `
services:
  web:
    image: a:${TAG:-2}
    ports: ["80:80"]
    environment:
      TZ: $TZ
      URL: https://${APP_DOMAIN}/x
      TEMPLATE: "{{ .Name }}"
      FROM_OPTIONS: $GIVEN
      FROM_ENV: $IN_DOTENV
      UNSET: ${NOBODY}
      LITERAL: $$HOME
      PASSED:
`, map[string]string{".env": "IN_DOTENV=dot\nPASSED=yes\n"}, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			want := map[string]string{
				"TZ": "Etc/UTC", "URL": "https://{{app.domain}}/x", "TEMPLATE": `{{"{{"}} .Name }}`,
				"FROM_OPTIONS": "opt", "FROM_ENV": "dot", "UNSET": "", "LITERAL": "$HOME", "PASSED": "yes",
			}
			if diff := cmp.Diff(want, m.Services["web"].Environment); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
			if m.Services["web"].Image.Ref != "docker.io/library/a:2" {
				t.Errorf("image: got %q", m.Services["web"].Image.Ref)
			}
			checkWarning(t, p, "", "${NOBODY}", "not set")
			if hasWarning(p, "", "${TAG}", "not set") {
				t.Error("a variable with a default is reported as not set")
			}
		}},
		{"env_file and profiles", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    env_file: [conf/app.env, {path: optional.env, required: false}]
    environment: {B: from-environment}
  debug:
    image: b:1
    profiles: [debug]
`, map[string]string{"conf/app.env": "A=from-file\nB=from-file\n"}, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if diff := cmp.Diff(map[string]string{"A": "from-file", "B": "from-environment"}, m.Services["web"].Environment); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
			if _, ok := m.Services["debug"]; ok {
				t.Error("a service of an inactive profile is in the manifest")
			}
			checkWarning(t, p, "debug", "profiles", "not active")
		}},
		{"extends", `
services:
  web:
    extends: {file: base.yaml, service: base}
    ports: ["80:80"]
`, map[string]string{"base.yaml": "services:\n  base:\n    image: a:1\n    environment: {FROM: base}\n"}, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if m.Services["web"].Environment["FROM"] != "base" || m.Services["web"].Image.Ref != "docker.io/library/a:1" {
				t.Errorf("got %+v, want the base's image and environment", m.Services["web"])
			}
		}},
		{"memory", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    mem_limit: 300m
    deploy: {resources: {reservations: {memory: 100M}}}
  ml:
    image: b:1
    deploy: {resources: {reservations: {memory: 2G}}}
  small:
    image: c:1
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if m.Services["web"].MemoryLimit != 300*manifest.Mi || m.Services["ml"].MemoryLimit != 2*manifest.Gi || m.Services["small"].MemoryLimit != 0 {
				t.Errorf("memory limits: got %s, %s, %s", m.Services["web"].MemoryLimit, m.Services["ml"].MemoryLimit, m.Services["small"].MemoryLimit)
			}
			want := manifest.Resources{MemoryMin: (100 + 2048 + 32) * manifest.Mi, MemoryLimit: (300 + 2048 + 1024) * manifest.Mi}
			if m.Resources != want {
				t.Errorf("resources: got %+v, want %+v", m.Resources, want)
			}
		}},
		{"images", `
services:
  web:
    image: nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000
    ports: ["80:80"]
  db:
    image: postgres:16.2@sha256:0000000000000000000000000000000000000000000000000000000000000000
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if m.Services["web"].Image.Ref != "docker.io/library/nginx" || m.Services["db"].Image.Ref != "docker.io/library/postgres:16.2" {
				t.Errorf("images: got %q and %q", m.Services["web"].Image.Ref, m.Services["db"].Image.Ref)
			}
			checkWarning(t, p, "web", "image", "no version tag")
			checkWarning(t, p, "db", "image", "digest")
			if diff := cmp.Diff(map[string]string{manifest.PlatformAMD64: ""}, m.Services["web"].Image.Platforms); diff != "" {
				t.Errorf("platforms (-want +got):\n%s", diff)
			}
			if m.Origin != manifest.OriginCompose || !m.Services["web"].WritableRoot {
				t.Errorf("origin %q, writableRoot %v: want compose, true", m.Origin, m.Services["web"].WritableRoot)
			}
		}},
		{"internal network", `
services:
  web:
    image: a:1
    ports: ["80:80"]
    read_only: true
    networks: [back]
networks:
  back: {internal: true}
`, nil, func(t *testing.T, p *Plan, m *manifest.Manifest) {
			if m.Has(manifest.PermInternet) {
				t.Error("an app on internal networks only asks for the internet")
			}
			if m.Services["web"].WritableRoot {
				t.Error("read_only: true gave a writable root")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeProject(t, mergeFiles(map[string]string{"compose.yaml": tc.compose}, tc.more))
			p := importDir(t, dir, Options{AppID: "app", Env: map[string]string{"GIVEN": "opt", "SESSION_SECRET": "from-options"}})
			tc.check(t, p, accepted(t, p))
		})
	}
}

func mergeFiles(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}
