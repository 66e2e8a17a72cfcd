package web

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/hearthbox/hearth/agent/api"
)

// page is what the layout of every page needs.
type page struct {
	Title string
	// User is the signed-in user's name ("" on the wizard and sign-in).
	User  string
	Owner bool
	// Nav names the current section: home, store, settings.
	Nav  string
	CSRF string
	// Refresh reloads the page every so many seconds when JavaScript is off
	// (0 = never).
	Refresh int
}

// errorView is a page that says what went wrong and what to do.
type errorView struct {
	Status  int
	Heading string
	Text    string
}

// badge is an app's state as the launcher shows it.
type badge struct {
	Label string
	Class string // starting, running, attention, updating, stopped
}

// badgeOf sums an app's state up in the launcher's four words (and stopped).
func badgeOf(a api.App) badge {
	if op := a.Operation; op != nil && op.State == "running" {
		switch op.Kind {
		case "install", "start", "restart":
			return badge{"Starting", "starting"}
		case "update", "rollback", "uninstall":
			return badge{"Updating", "updating"}
		}
	}
	switch a.State {
	case "running", "healthy":
		return badge{"Running", "running"}
	case "installing", "starting":
		return badge{"Starting", "starting"}
	case "updating", "removing":
		return badge{"Updating", "updating"}
	case "stopped":
		if a.Wanted == "stopped" {
			return badge{"Stopped", "stopped"}
		}
	}
	return badge{"Needs attention", "attention"}
}

// firstURL is where a tap on an app goes ("" = the app has no web page).
func firstURL(a api.App) string {
	if len(a.URLs) == 0 || !(strings.HasPrefix(a.URLs[0], "https://") || strings.HasPrefix(a.URLs[0], "http://")) {
		return ""
	}
	return a.URLs[0]
}

// initial is the letter on an app's icon.
func initial(title string) string {
	for _, r := range title {
		return strings.ToUpper(string(r))
	}
	return "?"
}

// iconHue picks one of eight icon colours from the app's id, so that an
// app keeps its colour.
func iconHue(id string) string {
	var h uint32
	for _, c := range []byte(id) {
		h = h*31 + uint32(c)
	}
	return fmt.Sprintf("hue-%d", h%8)
}

// permissionText says in plain words what a manifest permission allows,
// as a phone's install screen does.
func permissionText(p string) string {
	switch p {
	case "internet":
		return "Connect to the internet"
	case "lan":
		return "Connect to other devices on your home network"
	case "devices":
		return "Use devices plugged into the box"
	case "ports":
		return "Open its own ports on the box's address"
	case "shared-folders":
		return "Read and change your shared folders"
	case "privileged-capabilities":
		return "Use extra system powers beyond the usual ones"
	case "host-files":
		return "Read or change files of the box itself"
	case "container-engine":
		return "Start and control other programs on the box"
	case "host-network":
		return "Use the box's network directly, without its own fence"
	case "host-pid":
		return "See and stop the box's own programs"
	case "privileged":
		return "Full control of the box (trust it like the box itself)"
	}
	return "Special access: " + p
}

// memoryText says how much memory an app needs, in plain words.
func memoryText(b int64) string {
	switch {
	case b <= 0:
		return ""
	case b >= 1<<30:
		return fmt.Sprintf("Needs at least %.1f GB of memory", float64(b)/(1<<30))
	default:
		return fmt.Sprintf("Needs at least %d MB of memory", b>>20)
	}
}

// when formats a time for people, in UTC so that pages are the same for
// every viewer (and golden files stable).
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// opView is an operation page.
type opView struct {
	Op      api.Operation
	App     api.App // may be empty when the app is gone (uninstalled)
	Percent int     // -1 = unknown
	Message string
}

// Running reports whether the operation has not ended.
func (v opView) Running() bool { return v.Op.State == "running" || v.Op.State == "" }

// opHeading is the operation's title.
func opHeading(op api.Operation) string {
	verb := map[string]string{"install": "Installing", "update": "Updating", "start": "Starting", "stop": "Stopping",
		"restart": "Restarting", "rollback": "Rolling back", "uninstall": "Uninstalling"}[op.Kind]
	if verb == "" {
		verb = "Working on"
	}
	switch op.State {
	case "done":
		past := map[string]string{"install": "Installed", "update": "Updated", "start": "Started", "stop": "Stopped",
			"restart": "Restarted", "rollback": "Rolled back", "uninstall": "Uninstalled"}[op.Kind]
		if past == "" {
			past = "Done:"
		}
		return past + " " + op.App
	case "failed":
		return "Failed: " + op.Kind + " " + op.App
	case "rolledback":
		return "Failed and undone: " + op.Kind + " " + op.App
	}
	return verb + " " + op.App
}

// stepLabel is a step's name in plain words.
func stepLabel(name string) string {
	switch name {
	case "prepare":
		return "Prepare"
	case "pull":
		return "Download"
	case "start", "apply":
		return "Start"
	case "verify":
		return "Check that it answers"
	case "switch":
		return "Switch versions"
	case "stop":
		return "Stop"
	case "remove":
		return "Remove"
	}
	return name
}

// accessText says how the box is reached.
func accessText(mode, domain string) string {
	switch mode {
	case api.AccessDDNS:
		return "from anywhere, as " + domain + " (dynamic DNS)"
	case api.AccessDomain:
		return "from anywhere, at " + domain
	}
	return "at home only"
}

// href joins escaped path segments into a local link.
func href(segments ...string) templ.SafeURL {
	var b strings.Builder
	for _, s := range segments {
		b.WriteString("/")
		b.WriteString(url.PathEscape(s))
	}
	return templ.SafeURL(b.String())
}
