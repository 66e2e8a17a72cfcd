package firstboot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// D-Bus names of systemd's hostnamed and timedated.
const (
	hostnameDest   = "org.freedesktop.hostname1"
	hostnamePath   = "/org/freedesktop/hostname1"
	timedateDest   = "org.freedesktop.timedate1"
	timedatePath   = "/org/freedesktop/timedate1"
	busCallTimeout = 30 * time.Second
)

// ErrInvalid marks a host name or time zone that is refused; the message
// names the field.
var ErrInvalid = errors.New("invalid")

// hostLabel is a DNS label in lower case: the box is <name>.local.
var hostLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// CheckHostname checks a box name: one lower-case DNS label.
func CheckHostname(name string) error {
	if !hostLabel.MatchString(name) {
		return fmt.Errorf("name %q: must be 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-': %w", name, ErrInvalid)
	}
	return nil
}

// CheckTimezone checks an IANA time zone name against the zone database.
func CheckTimezone(zone string) error {
	if zone == "" || zone == "Local" || strings.Contains(zone, "..") || strings.HasPrefix(zone, "/") {
		return fmt.Errorf("timezone %q: must be an IANA name such as Europe/Berlin: %w", zone, ErrInvalid)
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return fmt.Errorf("timezone %q: not a known time zone: %w", zone, ErrInvalid)
	}
	return nil
}

// SystemConfig says how the box's name and time zone are set.
type SystemConfig struct {
	// BusAddress is the D-Bus to reach hostnamed and timedated on; "" is
	// the system bus. Ignored when the files are set.
	BusAddress string
	// HostnameFile and TimezoneFile, in development, receive the name and
	// the zone instead of systemd (the host is not the box).
	HostnameFile string
	TimezoneFile string
}

// System sets the box's host name through systemd-hostnamed and its time
// zone through systemd-timedated, over D-Bus; in development, files.
type System struct {
	cfg SystemConfig
}

// NewSystem returns a System.
func NewSystem(cfg SystemConfig) *System { return &System{cfg: cfg} }

// SetHostname sets the static and the transient host name.
func (s *System) SetHostname(ctx context.Context, name string) error {
	if err := CheckHostname(name); err != nil {
		return err
	}
	if s.cfg.HostnameFile != "" {
		if err := writeFile(s.cfg.HostnameFile, []byte(name+"\n")); err != nil {
			return fmt.Errorf("set host name: %w", err)
		}
		return nil
	}
	return s.call(ctx, hostnameDest, hostnamePath, func(obj dbus.BusObject, ctx context.Context) error {
		for _, m := range []string{"SetStaticHostname", "SetHostname"} {
			if err := obj.CallWithContext(ctx, hostnameDest+"."+m, 0, name, false).Err; err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
		return nil
	})
}

// SetTimezone sets the system's time zone.
func (s *System) SetTimezone(ctx context.Context, zone string) error {
	if err := CheckTimezone(zone); err != nil {
		return err
	}
	if s.cfg.TimezoneFile != "" {
		if err := writeFile(s.cfg.TimezoneFile, []byte(zone+"\n")); err != nil {
			return fmt.Errorf("set time zone: %w", err)
		}
		return nil
	}
	return s.call(ctx, timedateDest, timedatePath, func(obj dbus.BusObject, ctx context.Context) error {
		if err := obj.CallWithContext(ctx, timedateDest+".SetTimezone", 0, zone, false).Err; err != nil {
			return fmt.Errorf("SetTimezone: %w", err)
		}
		return nil
	})
}

// call connects to the bus, runs fn on the object, and disconnects.
func (s *System) call(ctx context.Context, dest, path string, fn func(dbus.BusObject, context.Context) error) error {
	var conn *dbus.Conn
	var err error
	if s.cfg.BusAddress == "" {
		conn, err = dbus.ConnectSystemBus(dbus.WithContext(ctx))
	} else {
		conn, err = dbus.Connect(s.cfg.BusAddress, dbus.WithContext(ctx))
	}
	if err != nil {
		return fmt.Errorf("%s: connect to D-Bus: %w", dest, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, busCallTimeout)
	defer cancel()
	if err := fn(conn.Object(dest, dbus.ObjectPath(path)), ctx); err != nil {
		return fmt.Errorf("%s: %w", dest, err)
	}
	return nil
}
