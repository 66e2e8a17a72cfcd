package addons

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
)

// Addon kinds, as the manifest names them.
const (
	KindPostgreSQL = "postgresql"
	KindMySQL      = "mysql"
	KindRedis      = "redis"
	KindSendmail   = "sendmail"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrInvalid: an argument (app id, subnet, password, config field) is
	// not acceptable; the message names it.
	ErrInvalid = errors.New("invalid addon argument")
	// ErrNotRunning: the addon's server is not started.
	ErrNotRunning = errors.New("addon server not running")
)

// Conn is what an app needs to reach its addon: the address it connects to
// (the gateway of its network) and its password.
type Conn struct {
	Host     netip.Addr
	Password string
}

// Provisioner gives apps their share of one addon server.
type Provisioner interface {
	// Ensure makes the app's user (and database) exist with password,
	// allowed to log in only from subnet. It is idempotent: it creates
	// what is missing and sets the password and subnet of what exists,
	// so it both resumes an interrupted Ensure and rotates a password.
	Ensure(ctx context.Context, app string, subnet netip.Prefix, password string) error
	// Drop removes the app's database and user; what is missing is not
	// an error.
	Drop(ctx context.Context, app string) error
	// Dump writes a consistent copy of the app's data to w.
	Dump(ctx context.Context, app string, w io.Writer) error
	// Restore replaces the app's data with a Dump read from r. The app's
	// user and database must exist (Ensure).
	Restore(ctx context.Context, app string, r io.Reader) error
	// Env is the environment the app's containers get.
	Env(app string, c Conn) map[string]string
}

var appPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

// checkApp validates an app id (the agent's pattern).
func checkApp(app string) error {
	if !appPattern.MatchString(app) {
		return fmt.Errorf("app %q: must be an app id ([a-z][a-z0-9-]*, 2-32 characters): %w", app, ErrInvalid)
	}
	return nil
}

// checkSubnet validates the app's subnet: an IPv4 prefix without host bits.
func checkSubnet(subnet netip.Prefix) error {
	if !subnet.IsValid() || !subnet.Addr().Is4() || subnet.Masked() != subnet {
		return fmt.Errorf("subnet %s: must be an IPv4 prefix without host bits: %w", subnet, ErrInvalid)
	}
	return nil
}

var passwordPattern = regexp.MustCompile(`^[A-Za-z0-9]{16,128}$`)

// checkPassword accepts what NewPassword makes, and other letters-and-digits
// passwords of 16 to 128 characters: they need no quoting anywhere.
func checkPassword(pw string) error {
	if !passwordPattern.MatchString(pw) {
		return fmt.Errorf("password: must be 16-128 letters and digits: %w", ErrInvalid)
	}
	return nil
}

// NewPassword returns a random password of 26 letters and digits (130 bits).
func NewPassword() string { return rand.Text() }

// UserName is the database user (and database name) of an app: "app_"
// and the id with '-' turned into '_'. App ids have no '_', so no two apps
// share a name, and no app can take a name such as "postgres" or "root".
func UserName(app string) string { return "app_" + strings.ReplaceAll(app, "-", "_") }

func checkArgs(app string, subnet netip.Prefix, password string) error {
	return errors.Join(checkApp(app), checkSubnet(subnet), checkPassword(password))
}
