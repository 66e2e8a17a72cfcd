package manifest

// FormatVersion is the only manifestVersion this package reads.
const FormatVersion = 1

// Manifest describes one version of an app package. Parse fills it from
// JSON; Validate says whether it follows every rule of docs/manifest.md.
type Manifest struct {
	// ManifestVersion is the format's version: FormatVersion.
	ManifestVersion int `json:"manifestVersion"`
	// Origin says where the manifest came from: "" for a Hearth package,
	// OriginCompose for one imported from a compose project. An imported
	// one may name moving tags ("latest", or none): the agent pins the
	// digest it pulls at install.
	Origin string `json:"origin,omitempty"`

	// ID is the app's slug, [a-z][a-z0-9-]{0,30}[a-z0-9].
	ID string `json:"id"`
	// Title is the app's name as shown to the owner.
	Title string `json:"title"`
	// Version is the package's semantic version, which orders updates.
	Version string `json:"version"`
	// UpstreamVersion is the packaged software's own version, free text.
	UpstreamVersion string `json:"upstreamVersion,omitempty"`
	// Tagline is one line, at most 80 characters.
	Tagline string `json:"tagline"`
	// Description is markdown, at most 8 KiB.
	Description string `json:"description,omitempty"`
	// Icon is a path inside the package ("icon.svg", "icon.png") or an
	// https URL.
	Icon string `json:"icon"`
	// Screenshots are https URLs.
	Screenshots []string `json:"screenshots,omitempty"`
	// Category is one of Categories().
	Category string `json:"category"`
	// Website is the upstream project's https URL.
	Website string `json:"website,omitempty"`
	// Author wrote the software; Packager made the package.
	Author   string `json:"author,omitempty"`
	Packager string `json:"packager,omitempty"`

	// Services are the app's containers, by service name.
	Services map[string]Service `json:"services"`
	// Addons are platform services the app asks for.
	Addons Addons `json:"addons,omitzero"`
	// Permissions the owner grants at install; anything not listed is denied.
	Permissions []Permission `json:"permissions,omitempty"`
	// Resources the app needs and may use.
	Resources Resources `json:"resources"`
	// Settings the owner fills in (or that are generated) at install.
	Settings []Setting `json:"settings,omitempty"`
	// PostInstallNotes is markdown shown once the app is installed.
	PostInstallNotes string `json:"postInstallNotes,omitempty"`
	// Backup says how to take a consistent copy of the app's data.
	Backup *Backup `json:"backup,omitempty"`
	// Protected says the app has no login of its own: Hearth's sign-in
	// guards its web entry (docs/proxy.md, "Apps behind Hearth's login").
	Protected bool `json:"protected,omitempty"`
}

// Service is one container of an app.
type Service struct {
	Image Image `json:"image"`
	// Entrypoint and Command replace the image's; absent keeps them. Items
	// may use {{...}} references.
	Entrypoint []string `json:"entrypoint,omitempty"`
	Command    []string `json:"command,omitempty"`
	// Environment values may use {{...}} references.
	Environment map[string]string `json:"environment,omitempty"`
	// Volumes are folders under the app's data folder, or (kind "host")
	// host paths, which need PermHostFiles or PermContainerEngine.
	Volumes []Volume `json:"volumes,omitempty"`
	// Files are read-only files written for the service at install (a
	// compose project's configs and secrets). Content may use {{...}}
	// references.
	Files []File `json:"files,omitempty"`
	// Tmpfs are memory-backed folders (targets).
	Tmpfs []string `json:"tmpfs,omitempty"`
	// SharedFolders are the owner's folders; they need PermSharedFolders.
	SharedFolders []SharedFolder `json:"sharedFolders,omitempty"`
	// User is "uid" or "uid:gid", numeric.
	User        string       `json:"user,omitempty"`
	WorkingDir  string       `json:"workingDir,omitempty"`
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
	// HTTPPort is the port the reverse proxy routes to: the app's web entry.
	// At most one service of an app has one.
	HTTPPort int `json:"httpPort,omitempty"`
	// Ports are published on the box's address; they need PermPorts.
	Ports []Port `json:"ports,omitempty"`
	// Capabilities kept (all others are dropped), e.g. "NET_BIND_SERVICE".
	Capabilities []string `json:"capabilities,omitempty"`
	// Devices passed through ("/dev/dri/renderD128"); they need PermDevices.
	Devices []string `json:"devices,omitempty"`
	// DependsOn lists services started before this one.
	DependsOn []Dependency `json:"dependsOn,omitempty"`
	// WritableRoot lets the service write outside its volumes and tmpfs,
	// as compose apps expect; Hearth packages keep a read-only root.
	WritableRoot bool `json:"writableRoot,omitempty"`
	// MemoryLimit is this service's share of Resources.MemoryLimit; services
	// without one share what is left equally (see MemoryLimits).
	MemoryLimit Size `json:"memoryLimit,omitempty"`
	// Sysctls are namespaced kernel settings of the service's own
	// namespaces (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*).
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// ShmSize sizes /dev/shm (absent: the runtime's 64 MiB); at most the
	// service's memory limit and 1 GiB.
	ShmSize Size `json:"shmSize,omitempty"`
	// Privileged runs the service with every capability and every host
	// device, without seccomp: root on the host. It needs PermPrivileged.
	Privileged bool `json:"privileged,omitempty"`
	// HostNetwork puts the service in the host's network namespace instead
	// of the app's network. It needs PermHostNetwork.
	HostNetwork bool `json:"hostNetwork,omitempty"`
	// HostPID puts the service in the host's process namespace. It needs
	// PermHostPID.
	HostPID bool `json:"hostPID,omitempty"`
}

// OriginCompose marks a manifest imported from a compose project.
const OriginCompose = "compose"

// Image names a service's image: a tag for people, and per platform the
// digest that runs ("" = supported, pinned by the agent at install).
type Image struct {
	Ref       string            `json:"ref"`
	Platforms map[string]string `json:"platforms"`
}

// Volume binds a folder of the app's data folder, or a host path, into a
// container.
type Volume struct {
	// Kind is VolumeData (empty) or VolumeHost.
	Kind string `json:"kind,omitempty"`
	// Source is relative to the app's data folder ("db", "config/app"), or
	// for VolumeHost an absolute host path ("/run/dbus").
	Source string `json:"source"`
	// Target is an absolute path in the container.
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// Kinds of Volume.
const (
	VolumeData = ""     // a folder of the app's data folder
	VolumeHost = "host" // a host path: needs PermHostFiles, or PermContainerEngine for an engine's socket
)

// File is a read-only file given to a service: written at install, mounted
// at Target.
type File struct {
	// Target is an absolute path in the container.
	Target string `json:"target"`
	// Content is the file's text, at most 64 KiB; it may use {{...}}
	// references.
	Content string `json:"content"`
}

// SharedFolder asks for one of the owner's folders (the owner picks which at
// install) under a name the app chooses ("photos", "music").
type SharedFolder struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// HealthCheck says when a service is healthy: exactly one of HTTP, TCP and
// Command. Zero durations and retries take the runtime's defaults (10s
// interval, 5s timeout, 3 retries, no start period).
type HealthCheck struct {
	HTTP *HTTPCheck `json:"http,omitempty"`
	TCP  *TCPCheck  `json:"tcp,omitempty"`
	// Command runs in the container; exit status 0 is healthy.
	Command     []string `json:"command,omitempty"`
	Interval    Duration `json:"interval,omitempty"`
	Timeout     Duration `json:"timeout,omitempty"`
	StartPeriod Duration `json:"startPeriod,omitempty"`
	Retries     int      `json:"retries,omitempty"`
}

// HTTPCheck is healthy when GET Path on Port answers below 400.
type HTTPCheck struct {
	Path string `json:"path"`
	Port int    `json:"port"`
}

// TCPCheck is healthy when Port accepts a connection.
type TCPCheck struct {
	Port int `json:"port"`
}

// Port is published on the box's own address, same number inside and out.
type Port struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	// Reason is shown to the owner, who decides.
	Reason string `json:"reason"`
}

// Protocols of a Port.
const (
	ProtocolTCP = "tcp"
	ProtocolUDP = "udp"
)

// Dependency is a service that must be started (or healthy) first.
type Dependency struct {
	Service string `json:"service"`
	// Condition is ConditionStarted (the default when empty) or
	// ConditionHealthy.
	Condition string `json:"condition,omitempty"`
}

// Conditions of a Dependency.
const (
	ConditionStarted = "started"
	ConditionHealthy = "healthy"
)

// Permission is one thing the app may do beyond its sandbox.
type Permission string

// Permissions, a closed list.
const (
	PermLAN                    Permission = "lan"                     // open connections to the local network
	PermInternet               Permission = "internet"                // open connections to the internet
	PermDevices                Permission = "devices"                 // use the host devices its services list
	PermPorts                  Permission = "ports"                   // publish ports on the box's address
	PermSharedFolders          Permission = "shared-folders"          // mount the owner's shared folders
	PermPrivilegedCapabilities Permission = "privileged-capabilities" // keep capabilities beyond the basic set
	PermHostFiles              Permission = "host-files"              // mount the host paths its services list
	PermContainerEngine        Permission = "container-engine"        // mount a container engine's socket (Docker, Podman)
	PermHostNetwork            Permission = "host-network"            // use the host's network namespace
	PermHostPID                Permission = "host-pid"                // see and signal the host's processes
	PermPrivileged             Permission = "privileged"              // root on the host: privileged services, any capability
)

// Permissions returns every permission, in documentation order.
func Permissions() []Permission {
	return []Permission{PermLAN, PermInternet, PermDevices, PermPorts, PermSharedFolders, PermPrivilegedCapabilities,
		PermHostFiles, PermContainerEngine, PermHostNetwork, PermHostPID, PermPrivileged}
}

// HostPermissions are the permissions that reach beyond the app's sandbox
// into the host itself: the agent installs an app that asks for one only
// when the owner grants it by name.
func HostPermissions() []Permission {
	return []Permission{PermHostFiles, PermContainerEngine, PermHostNetwork, PermHostPID, PermPrivileged}
}

// Has reports whether the manifest asks for p.
func (m *Manifest) Has(p Permission) bool {
	for _, q := range m.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// Categories returns the closed list of app categories.
func Categories() []string {
	return []string{"productivity", "media", "files", "passwords", "home-automation", "development",
		"communication", "finance", "reading", "monitoring", "networking", "photos", "social", "other"}
}

// Resources are the app's memory needs and limits, all services together.
type Resources struct {
	// MemoryMin is what the app needs: an install is refused when the box
	// cannot give it this much.
	MemoryMin Size `json:"memoryMin"`
	// MemoryLimit caps the app (at least MemoryMin).
	MemoryLimit Size `json:"memoryLimit"`
	// CPUWeight is the app's relative CPU share, 1..10000 (100 when absent).
	CPUWeight int `json:"cpuWeight,omitempty"`
}

// Addons are platform services provisioned for the app (by a later version
// of the agent); each present field is one the app asks for.
type Addons struct {
	PostgreSQL   *DatabaseAddon     `json:"postgresql,omitempty"`
	MySQL        *DatabaseAddon     `json:"mysql,omitempty"`
	Redis        *DatabaseAddon     `json:"redis,omitempty"`
	Sendmail     *MailAddon         `json:"sendmail,omitempty"`
	SMTP         *MailAddon         `json:"smtp,omitempty"`
	OIDC         *OIDCAddon         `json:"oidc,omitempty"`
	LocalStorage *LocalStorageAddon `json:"localstorage,omitempty"`
}

// Names returns the addons asked for, in a fixed order.
func (a Addons) Names() []string {
	var n []string
	for _, x := range []struct {
		name string
		on   bool
	}{
		{"postgresql", a.PostgreSQL != nil}, {"mysql", a.MySQL != nil}, {"redis", a.Redis != nil},
		{"sendmail", a.Sendmail != nil}, {"smtp", a.SMTP != nil}, {"oidc", a.OIDC != nil},
		{"localstorage", a.LocalStorage != nil},
	} {
		if x.on {
			n = append(n, x.name)
		}
	}
	return n
}

// DatabaseAddon asks for a database (postgresql, mysql) or a redis.
type DatabaseAddon struct {
	// Version is the major version ("16", "8.4"); empty takes the box's.
	Version string `json:"version,omitempty"`
}

// MailAddon asks for outbound mail: sendmail is a relay on the app's network
// that needs no credentials, smtp the owner's mail provider's credentials.
type MailAddon struct {
	// Optional: the app works without mail, and the owner may decline.
	Optional bool `json:"optional,omitempty"`
}

// OIDCAddon asks for single sign-on with the box's identity provider.
type OIDCAddon struct {
	// LoginRedirectPath is the app's callback path ("/oauth2/callback").
	LoginRedirectPath string `json:"loginRedirectPath"`
	// LogoutRedirectPath, optional, is where the provider sends people back
	// after logout.
	LogoutRedirectPath string `json:"logoutRedirectPath,omitempty"`
}

// LocalStorageAddon marks the app's data folder as holding data worth
// backing up. It has no options.
type LocalStorageAddon struct{}

// SettingType is the kind of value a Setting holds.
type SettingType string

// Setting types, a closed list.
const (
	TypeString   SettingType = "string"   // one line
	TypeText     SettingType = "text"     // several lines
	TypeNumber   SettingType = "number"   // decimal, between Min and Max
	TypeBoolean  SettingType = "boolean"  // "true" or "false"
	TypeEmail    SettingType = "email"    // an address, user@host
	TypeURL      SettingType = "url"      // an http or https URL
	TypeChoice   SettingType = "choice"   // one of Choices
	TypeSecret   SettingType = "secret"   // generated at install, never typed or defaulted
	TypePassword SettingType = "password" // typed by the owner, shown masked
)

// SettingTypes returns every setting type.
func SettingTypes() []SettingType {
	return []SettingType{TypeString, TypeText, TypeNumber, TypeBoolean, TypeEmail, TypeURL, TypeChoice, TypeSecret, TypePassword}
}

// Setting is a value the owner fills in at install (or that is generated),
// referenced from the environment as {{settings.<id>}}.
type Setting struct {
	// ID is snake_case.
	ID          string      `json:"id"`
	Label       string      `json:"label"`
	Description string      `json:"description,omitempty"`
	Type        SettingType `json:"type"`
	Required    bool        `json:"required,omitempty"`
	// Default is a JSON string, or a number for TypeNumber, or a boolean for
	// TypeBoolean. A secret never has one.
	Default *Scalar `json:"default,omitempty"`
	// Choices are the values of a TypeChoice setting.
	Choices []string `json:"choices,omitempty"`
	// Min and Max bound a TypeNumber setting.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Pattern is an RE2 regular expression the whole value of a TypeString
	// or TypePassword setting must match.
	Pattern string `json:"pattern,omitempty"`
	// Generate says how a TypeSecret is generated.
	Generate *Generate `json:"generate,omitempty"`
}

// Generate describes a generated secret.
type Generate struct {
	// Length is the number of characters, 16..1024.
	Length int `json:"length"`
	// Charset is CharsetAlnum, CharsetHex or CharsetBase64URL.
	Charset string `json:"charset"`
}

// Charsets of generated secrets.
const (
	CharsetAlnum     = "alnum"     // A-Z a-z 0-9
	CharsetHex       = "hex"       // 0-9 a-f
	CharsetBase64URL = "base64url" // A-Z a-z 0-9 - _
)
