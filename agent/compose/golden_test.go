package compose

import (
	"path/filepath"
	"strings"
	"testing"
)

// representative are the store apps whose whole plans are golden: single
// and multi-service apps, generated secrets, container names, shared
// folders, host networking, privileged mode, devices, HTTPS entries, a
// guessed web entry, and one of each kind of refusal.
var representative = []string{
	"casaos/2FAuth",        // one service, a constant APP_KEY becomes a secret, the data folder mounted whole
	"casaos/AdGuardHome",   // DNS ports
	"casaos/Immich",        // four services, a shared password, container names, a shared folder
	"casaos/Nextcloud",     // HTTPS port published beside the web entry
	"casaos/Pihole",        // NET_ADMIN: privileged capabilities; UDP ports
	"casaos/qBittorrent",   // all of /DATA as a shared folder
	"casaos/Sonarr",        // media and download shared folders
	"casaos/Tailscale",     // host networking, /dev/net/tun, an entrypoint string
	"casaos/HomeAssistant", // refused: /run/dbus
	"casaos/Jellyfin",      // refused: /opt/vc/lib
	"casaos/Portainer",     // refused: the Docker socket
	"casaos/TaskingAI",     // refused: configs
	"casaos/WireGuardEasy", // refused: SYS_MODULE
	"casaos/DuckDNS",       // headless: no web entry, no ports
	"casaos/Plex",          // /dev/dvb and the GPU passed through
	"bigbear/2fauth",       // digest-pinned image
	"bigbear/n8n",          // service_healthy on a database, links
	"bigbear/nextcloud",    // four services, health checks, cron
	"bigbear/ente",         // service:museum network, run-once dependency, base64 keys
	"bigbear/homebridge",   // privileged and host networking
	"bigbear/chromium",     // a port_map that names no port: guessed web entry, shm_size kept
	"bigbear/gluetun",      // no web entry named
	"bigbear/filebrowser",  // refused: every app's data (/DATA/AppData)
	"bigbear/glances",      // refused: the Docker socket (and pid: host)
	"bigbear/tailscale",    // refused: SYS_MODULE
}

// TestRepresentativePlans compares the plans of representative store apps
// with testdata/plans/<store>-<app>.golden.
func TestRepresentativePlans(t *testing.T) {
	if len(representative) < 20 {
		t.Fatalf("%d representative apps, want at least 20", len(representative))
	}
	for _, app := range representative {
		t.Run(app, func(t *testing.T) {
			store, name, _ := strings.Cut(app, "/")
			p := importDir(t, filepath.Join("testdata", "appstores", store, "Apps", name), Options{})
			golden(t, filepath.Join("plans", store+"-"+strings.ToLower(name)+".golden"), planJSON(t, p))
		})
	}
}
