package rt

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		name  string
		tune  func(*ContainerSpec)
		field string
	}{
		{"empty id", func(s *ContainerSpec) { s.ID = "" }, "id"},
		{"id with slash", func(s *ContainerSpec) { s.ID = "a/b" }, "id"},
		{"id too long", func(s *ContainerSpec) { s.ID = strings.Repeat("a", 64) }, "id"},
		{"image without digest", func(s *ContainerSpec) { s.Image = "web:1.0" }, "image"},
		{"malformed image", func(s *ContainerSpec) { s.Image = "UPPER CASE" }, "image"},
		{"bad network", func(s *ContainerSpec) { s.Network = "Net_1" }, "network"},
		{"bad name", func(s *ContainerSpec) { s.Names = []string{"ok", "not ok"} }, "names[1]"},
		{"bad env", func(s *ContainerSpec) { s.Env = []string{"NOVALUE"} }, "env[0]"},
		{"relative workdir", func(s *ContainerSpec) { s.WorkingDir = "srv" }, "workingDir"},
		{"user by name", func(s *ContainerSpec) { s.User = "www-data" }, "user"},
		{"no data dir", func(s *ContainerSpec) { s.DataDir = "" }, "dataDir"},
		{"data dir outside root", func(s *ContainerSpec) { s.DataDir = "/var/lib/other" }, "dataDir"},
		{"data dir is the root", func(s *ContainerSpec) { s.DataDir = "/var/lib/hearth/apps" }, "dataDir"},
		{"data dir unclean", func(s *ContainerSpec) { s.DataDir = "/var/lib/hearth/apps/a/../../x" }, "dataDir"},
		{"volume escapes", func(s *ContainerSpec) { s.Volumes[0].Source = "../other" }, "volumes[0].source"},
		{"volume absolute", func(s *ContainerSpec) { s.Volumes[0].Source = "/etc" }, "volumes[0].source"},
		{"volume over /proc", func(s *ContainerSpec) { s.Volumes[0].Target = "/proc/x" }, "volumes[0].target"},
		{"volume over root", func(s *ContainerSpec) { s.Volumes[0].Target = "/" }, "volumes[0].target"},
		{"volume target twice", func(s *ContainerSpec) { s.Volumes = append(s.Volumes, Volume{Source: "b", Target: "/app/data"}) }, "volumes[1].target"},
		{"tmpfs over /tmp", func(s *ContainerSpec) { s.Tmpfs = []Tmpfs{{Target: "/tmp"}} }, "tmpfs[0].target"},
		{"tiny memory", func(s *ContainerSpec) { s.Resources.MemoryBytes = 1024 }, "resources.memoryBytes"},
		{"cpu weight", func(s *ContainerSpec) { s.Resources.CPUWeight = 20000 }, "resources.cpuWeight"},
		{"unknown capability", func(s *ContainerSpec) { s.Capabilities = []string{"CAP_FLY"} }, "capabilities[0]"},
		{"device outside /dev", func(s *ContainerSpec) { s.Devices = []string{"/etc/shadow"} }, "devices[0]"},
		{"host sysctl", func(s *ContainerSpec) { s.Sysctls = map[string]string{"vm.swappiness": "1"} }, "sysctls.vm.swappiness"},
		{"two health kinds", func(s *ContainerSpec) { s.Health.TCPPort = 80 }, "health"},
		{"negative stop timeout", func(s *ContainerSpec) { s.StopTimeout = -time.Second }, "stopTimeout"},
		{"reserved label", func(s *ContainerSpec) { s.Labels = map[string]string{"hearth.managed": "x"} }, "labels.hearth.managed"},
		{"host mount relative", func(s *ContainerSpec) { s.HostMounts = []HostMount{{Source: "run/dbus", Target: "/run/dbus"}} }, "hostMounts[0].source"},
		{"host mount of /", func(s *ContainerSpec) { s.HostMounts = []HostMount{{Source: "/", Target: "/host"}} }, "hostMounts[0].source"},
		{"host mount over /sys", func(s *ContainerSpec) { s.HostMounts = []HostMount{{Source: "/sys", Target: "/sys"}} }, "hostMounts[0].target"},
		{"host mount over a volume", func(s *ContainerSpec) { s.HostMounts = []HostMount{{Source: "/opt", Target: "/app/data"}} }, "hostMounts[0].target"},
		{"file over /dev", func(s *ContainerSpec) { s.Files = []File{{Target: "/dev/x"}} }, "files[0].target"},
		{"file too large", func(s *ContainerSpec) { s.Files = []File{{Target: "/x", Content: strings.Repeat("x", 1<<20+1)}} }, "files[0].content"},
		{"host network with a network", func(s *ContainerSpec) { s.HostNetwork = true }, "hostNetwork"},
		{"net sysctl on the host network", func(s *ContainerSpec) {
			s.Network, s.HostNetwork = "", true
			s.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "sysctls.net.ipv4.ip_forward"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := baseSpec()
			c.tune(&s)
			err := s.Validate("/var/lib/hearth/apps")
			if err == nil {
				t.Fatal("got no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want it to match ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.field+":") {
				t.Errorf("got %q, want it to name the field %q", err, c.field)
			}
		})
	}
	good := baseSpec()
	if err := good.Validate("/var/lib/hearth/apps"); err != nil {
		t.Errorf("the base spec: got %v, want it valid", err)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1:5000": true, "localhost:5000": true, "[::1]:5000": true, "127.8.9.1": true,
		"registry.example:5000": false, "10.0.0.1:5000": false, "docker.io": false, "localhost.evil.example": false,
	}
	for host, want := range cases {
		got, err := isLoopbackHost(host)
		if err != nil || got != want {
			t.Errorf("isLoopbackHost(%q): got %v (%v), want %v", host, got, err, want)
		}
	}
}

func TestParseNetDev(t *testing.T) {
	in := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    2000      20    0    0    0     0          0         0     3000      30    0    0    0     0       0          0
`
	rx, tx, err := parseNetDev([]byte(in))
	if err != nil || rx != 2000 || tx != 3000 {
		t.Fatalf("got rx %d tx %d err %v, want 2000, 3000 (loopback not counted)", rx, tx, err)
	}
}
