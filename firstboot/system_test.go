package firstboot

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestSystemFiles(t *testing.T) {
	dir := t.TempDir()
	s := NewSystem(SystemConfig{HostnameFile: filepath.Join(dir, "hostname"), TimezoneFile: filepath.Join(dir, "timezone")})
	ctx := context.Background()
	cases := []struct {
		name    string
		do      func() error
		file    string
		want    string
		invalid bool
	}{
		{"host name", func() error { return s.SetHostname(ctx, "living-room") }, "hostname", "living-room\n", false},
		{"bad host name", func() error { return s.SetHostname(ctx, "Living Room") }, "", "", true},
		{"host name with a dash at the end", func() error { return s.SetHostname(ctx, "box-") }, "", "", true},
		{"time zone", func() error { return s.SetTimezone(ctx, "Europe/Berlin") }, "timezone", "Europe/Berlin\n", false},
		{"unknown zone", func() error { return s.SetTimezone(ctx, "Mars/Olympus") }, "", "", true},
		{"zone path", func() error { return s.SetTimezone(ctx, "../../etc/passwd") }, "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			if c.invalid {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("got %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(dir, c.file))
			if string(b) != c.want {
				t.Errorf("got %q, want %q", b, c.want)
			}
		})
	}
}

// systemd stands in for hostnamed and timedated on a private bus: the
// methods and signatures are systemd's, the effect is recorded.
type systemd struct {
	mu    sync.Mutex
	calls []string
}

func (s *systemd) record(call string) *dbus.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
	return nil
}

type hostname1 struct{ *systemd }

func (h hostname1) SetStaticHostname(name string, interactive bool) *dbus.Error {
	return h.record("SetStaticHostname " + name)
}

func (h hostname1) SetHostname(name string, interactive bool) *dbus.Error {
	return h.record("SetHostname " + name)
}

type timedate1 struct{ *systemd }

func (d timedate1) SetTimezone(zone string, interactive bool) *dbus.Error {
	return d.record("SetTimezone " + zone)
}

// startBus runs a private dbus-daemon and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("dbus-daemon: %v (apt install dbus-daemon)", err)
		}
		t.Skipf("dbus-daemon: %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	err = os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	return strings.TrimSpace(addr)
}

func TestSystemOverDBus(t *testing.T) {
	addr := startBus(t)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sd := &systemd{}
	for _, o := range []struct {
		name string
		v    any
	}{{hostnameDest, hostname1{sd}}, {timedateDest, timedate1{sd}}} {
		path := "/" + strings.ReplaceAll(o.name, ".", "/")
		if err := conn.Export(o.v, dbus.ObjectPath(path), o.name); err != nil {
			t.Fatal(err)
		}
		if reply, err := conn.RequestName(o.name, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("own %s: %v (%v)", o.name, err, reply)
		}
	}
	s := NewSystem(SystemConfig{BusAddress: addr})
	ctx := context.Background()
	if err := s.SetHostname(ctx, "living-room"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTimezone(ctx, "Europe/Berlin"); err != nil {
		t.Fatal(err)
	}
	want := []string{"SetStaticHostname living-room", "SetHostname living-room", "SetTimezone Europe/Berlin"}
	sd.mu.Lock()
	got := strings.Join(sd.calls, "; ")
	sd.mu.Unlock()
	if got != strings.Join(want, "; ") {
		t.Errorf("calls: got %q, want %q", got, strings.Join(want, "; "))
	}
	if err := NewSystem(SystemConfig{BusAddress: "unix:path=" + filepath.Join(t.TempDir(), "none")}).SetHostname(ctx, "x"); err == nil {
		t.Error("no bus: got nil, want an error")
	}
}
