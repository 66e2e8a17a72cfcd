package rt

import (
	"net/netip"
	"time"
)

// ContainerSpec describes one container. It is the whole input of Ensure: its
// hash decides whether an existing container is kept or replaced.
type ContainerSpec struct {
	// ID names the container in containerd: [a-z0-9][a-z0-9_.-]*, at most 63
	// characters.
	ID string `json:"id"`
	// Group is an opaque owner name (the agent uses the app id). It becomes a
	// label, so that ListContainers can select by it.
	Group string `json:"group"`
	// Image is a reference that includes a digest ("repo:tag@sha256:...").
	// A reference without a digest is refused: pinning is the caller's job,
	// done with the digest that Pull returns.
	Image string `json:"image"`
	// Network is the name of a network made with EnsureNetwork. Empty means
	// the container has only a loopback interface.
	Network string `json:"network,omitempty"`
	// Names are the names other containers of the same network resolve to
	// this container's address (service name, compose container names).
	Names []string `json:"names,omitempty"`
	// Hostname defaults to the first name, or the ID.
	Hostname string `json:"hostname,omitempty"`

	// Entrypoint and Command override the image's; nil keeps it.
	Entrypoint []string `json:"entrypoint,omitempty"`
	Command    []string `json:"command,omitempty"`
	// Env is added to (and overrides) the image's environment. "KEY=value".
	Env        []string `json:"env,omitempty"`
	WorkingDir string   `json:"workingDir,omitempty"`
	// User is "uid" or "uid:gid" (numeric only); empty keeps the image's user.
	User string `json:"user,omitempty"`

	// DataDir is the folder that holds this container's volumes. It must lie
	// under the runtime's Config.DataRoot.
	DataDir string   `json:"dataDir"`
	Volumes []Volume `json:"volumes,omitempty"`
	// WritableRoot lets the container write to its root filesystem (its
	// own snapshot, dropped when the container is replaced); by default the
	// root is read-only and only volumes and tmpfs are writable.
	WritableRoot bool `json:"writableRoot,omitempty"`
	// Tmpfs adds memory-backed folders beside /tmp and /run (always there).
	Tmpfs []Tmpfs `json:"tmpfs,omitempty"`

	Resources Resources `json:"resources"`
	// Capabilities lists the capabilities kept ("CAP_NET_BIND_SERVICE" or
	// "NET_BIND_SERVICE"); every other one is dropped.
	Capabilities []string `json:"capabilities,omitempty"`
	// Devices are host device nodes passed through ("/dev/dri/renderD128").
	Devices []string `json:"devices,omitempty"`
	// Sysctls are namespaced kernel settings (net.*, kernel.shm*).
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// HostMounts bind host paths (folders, files, sockets) into the
	// container. Each must exist on the host when the container is made;
	// which host paths a container may have is the caller's decision.
	HostMounts []HostMount `json:"hostMounts,omitempty"`
	// Files are read-only files: the runtime writes them in the
	// container's own folder and binds each at its target.
	Files []File `json:"files,omitempty"`
	// Privileged gives the container every capability and every host
	// device, without seccomp, masked paths or no-new-privileges: root on
	// the host. Capabilities is then ignored.
	Privileged bool `json:"privileged,omitempty"`
	// HostNetwork runs the container in the host's network namespace
	// (Network must be empty): it uses the host's addresses and resolver,
	// and is reached at 127.0.0.1.
	HostNetwork bool `json:"hostNetwork,omitempty"`
	// HostPID runs the container in the host's process namespace.
	HostPID bool `json:"hostPID,omitempty"`

	Health *HealthCheck `json:"health,omitempty"`
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	StopTimeout time.Duration `json:"stopTimeout,omitempty"`
	// Labels are extra labels, kept on the containerd container.
	Labels map[string]string `json:"labels,omitempty"`
}

// Volume binds a folder under the spec's DataDir into the container.
type Volume struct {
	// Source is relative to DataDir ("db", "config/app"); it is created if
	// missing and may not leave DataDir.
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// HostMount binds a host path into the container.
type HostMount struct {
	// Source is an absolute host path.
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// File is a read-only file in the container.
type File struct {
	Target  string `json:"target"`
	Content string `json:"content"`
}

// Tmpfs is a memory-backed folder in the container.
type Tmpfs struct {
	Target string `json:"target"`
	// SizeBytes caps it; 0 means 64 MiB.
	SizeBytes int64 `json:"sizeBytes,omitempty"`
}

// Resources limits a container. Zero values take the runtime's defaults.
type Resources struct {
	MemoryBytes int64 `json:"memoryBytes,omitempty"`
	// PidsLimit caps the number of processes and threads.
	PidsLimit int64 `json:"pidsLimit,omitempty"`
	// CPUWeight is relative, 1..10000, 100 being the default share.
	CPUWeight uint64 `json:"cpuWeight,omitempty"`
	// ShmBytes sizes /dev/shm.
	ShmBytes int64 `json:"shmBytes,omitempty"`
}

// HealthCheck says how the runtime decides that a container is healthy. Exactly
// one of HTTPPath, TCPPort and Command is set.
type HealthCheck struct {
	// HTTPPath is requested on HTTPPort; a status below 400 is healthy.
	HTTPPath string `json:"httpPath,omitempty"`
	HTTPPort int    `json:"httpPort,omitempty"`
	// TCPPort is healthy when it accepts a connection.
	TCPPort int `json:"tcpPort,omitempty"`
	// Command runs inside the container; exit status 0 is healthy.
	Command     []string      `json:"command,omitempty"`
	Interval    time.Duration `json:"interval,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	Retries     int           `json:"retries,omitempty"`
	StartPeriod time.Duration `json:"startPeriod,omitempty"`
}

// Health is the outcome of a container's health checks.
type Health string

// Health values.
const (
	HealthNone      Health = ""          // no check configured
	HealthStarting  Health = "starting"  // within the start period, or no result yet
	HealthHealthy   Health = "healthy"   // the last check passed
	HealthUnhealthy Health = "unhealthy" // Retries checks in a row failed
)

// State is where a container is in its life.
type State string

// State values.
const (
	StateCreated State = "created" // exists, no task
	StateRunning State = "running"
	StatePaused  State = "paused"
	StateStopped State = "stopped" // its task exited
)

// ContainerInfo is what the runtime knows about a container.
type ContainerInfo struct {
	ID       string     `json:"id"`
	Group    string     `json:"group"`
	Image    string     `json:"image"`
	SpecHash string     `json:"specHash"`
	State    State      `json:"state"`
	PID      uint32     `json:"pid,omitempty"`
	IP       netip.Addr `json:"ip,omitzero"`
	ExitCode uint32     `json:"exitCode,omitempty"`
	ExitedAt time.Time  `json:"exitedAt,omitzero"`
	// OOMKilled is true when the last exit followed an out-of-memory kill.
	OOMKilled bool              `json:"oomKilled,omitempty"`
	Health    Health            `json:"health,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Stats are a container's counters, read from its cgroup and network namespace.
type Stats struct {
	Time time.Time `json:"time"`
	// CPUNanos is the CPU time used since the container started.
	CPUNanos    uint64 `json:"cpuNanos"`
	MemoryBytes uint64 `json:"memoryBytes"`
	MemoryLimit uint64 `json:"memoryLimit"`
	Pids        uint64 `json:"pids"`
	NetRxBytes  uint64 `json:"netRxBytes"`
	NetTxBytes  uint64 `json:"netTxBytes"`
}

// EventType names what an Event reports.
type EventType string

// Event types.
const (
	EventExit   EventType = "exit"
	EventOOM    EventType = "oom"
	EventHealth EventType = "health"
)

// Event is something that happened to a container.
type Event struct {
	Type      EventType `json:"type"`
	Container string    `json:"container"`
	Time      time.Time `json:"time"`
	ExitCode  uint32    `json:"exitCode,omitempty"`
	OOMKilled bool      `json:"oomKilled,omitempty"`
	Health    Health    `json:"health,omitempty"`
}

// PullProgress reports the bytes of one layer (or config, or manifest) fetched.
type PullProgress struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	Done   int64  `json:"done"`
	Total  int64  `json:"total"`
	// Status is "downloading", "done" or "exists".
	Status string `json:"status"`
}

// Credentials log in to a private registry.
type Credentials struct {
	Username string `json:"username"`
	Secret   string `json:"secret"`
}

// NetworkSpec describes a group's bridge network.
type NetworkSpec struct {
	// Name is [a-z0-9][a-z0-9-]*, at most 32 characters.
	Name string `json:"name"`
	// Egress allows connections to addresses outside the box's container
	// networks (the internet, the LAN).
	Egress bool `json:"egress"`
	// HostPorts are the TCP ports of the network's gateway (host services:
	// the app's addons) that its containers may reach.
	HostPorts []uint16 `json:"hostPorts,omitempty"`
}
