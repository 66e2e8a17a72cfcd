package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

// accountCommands are the lines of the command table for the first-boot
// setup, the factory reset, users and sessions.
func accountCommands() []command {
	return []command{
		{"setup code", "", "the setup code that opens the first-boot wizard (root only)", (*cli).setupCode},
		{"reset", "--factory --yes", "forget the owner, users, sessions and setup answers (apps stay); a new setup code opens setup again", (*cli).factoryReset},
		{"user ls", "", "the box's users", (*cli).userList},
		{"user add", "<name> [--role owner|member] --password-file file|-", "add a user (member by default); the password is read from a file or stdin", (*cli).userAdd},
		{"user rm", "<name>", "remove a user and end their sessions", (*cli).userRemove},
		{"user passwd", "<name> --old-file file|- --new-file file|-", "change a user's password; their other sessions end", (*cli).userPasswd},
		{"session ls", "[--user name]", "the signed-in browsers", (*cli).sessionList},
		{"session revoke", "<id> [--user name]", "sign a browser out", (*cli).sessionRevoke},
	}
}

// setupError explains the errors of the setup commands.
func setupError(err error) error {
	if errors.Is(err, api.ErrGone) {
		return failf("the box is claimed: there is no setup code; 'hearth reset --factory --yes' opens setup again")
	}
	return err
}

func (c *cli) setupCode(ctx context.Context, args []string) error {
	if _, err := parse(c.flags("setup code"), "setup code", args, nil, nil); err != nil {
		return err
	}
	code, err := c.api().SetupCode(ctx)
	if err != nil {
		return setupError(err)
	}
	if c.json {
		return c.printJSON(api.SetupCodeResponse{Code: code})
	}
	_, err = fmt.Fprintln(c.stdout, code)
	return err
}

func (c *cli) factoryReset(ctx context.Context, args []string) error {
	const name = "reset"
	fs := c.flags(name)
	factory := fs.Bool("factory", false, "a factory reset")
	yes := fs.Bool("yes", false, "yes, forget the owner and every user")
	if _, err := parse(fs, name, args, nil, nil); err != nil {
		return err
	}
	if !*factory {
		return &usageError{cmd: name, msg: "--factory is the only reset there is: add it"}
	}
	if !*yes {
		return &usageError{cmd: name, msg: "this forgets the owner, every user and session and the setup answers: add --yes"}
	}
	if err := c.api().FactoryReset(ctx); err != nil {
		return err
	}
	_, err := fmt.Fprintln(c.stdout, "reset: the owner, users, sessions and setup answers are forgotten; the apps stay.\n"+
		"The new setup code is on the console ('hearth setup code' shows it).")
	return err
}

func (c *cli) userList(ctx context.Context, args []string) error {
	if _, err := parse(c.flags("user ls"), "user ls", args, nil, nil); err != nil {
		return err
	}
	users, err := c.api().Users(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(nonNilSlice(users))
	}
	if len(users) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no users yet: the first-boot wizard makes the owner ('hearth setup code' opens it)")
		return err
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "NAME\tROLE\tTWO-FACTOR\tCREATED")
	for _, u := range users {
		tf := "off"
		if u.TOTP {
			tf = "on"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, tf, c.when(u.Created))
	}
	return tw.Flush()
}

func (c *cli) userAdd(ctx context.Context, args []string) error {
	const name = "user add"
	fs := c.flags(name)
	role := fs.String("role", api.RoleMember, "owner or member")
	pwFile := fs.String("password-file", "", "a file holding the password; - reads stdin")
	ops, err := parse(fs, name, args, []string{"<name>"}, nil)
	if err != nil {
		return err
	}
	if *pwFile == "" {
		return &usageError{cmd: name, msg: "--password-file is required (- reads the password from stdin)"}
	}
	pw, err := readPassword(*pwFile, os.Stdin)
	if err != nil {
		return err
	}
	u, err := c.api().AddUser(ctx, api.AddUserRequest{Name: ops[0], Password: pw, Role: *role})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(u)
	}
	_, err = fmt.Fprintf(c.stdout, "user %s added (%s)\n", u.Name, u.Role)
	return err
}

func (c *cli) userRemove(ctx context.Context, args []string) error {
	ops, err := parse(c.flags("user rm"), "user rm", args, []string{"<name>"}, nil)
	if err != nil {
		return err
	}
	if err := c.api().RemoveUser(ctx, ops[0]); err != nil {
		switch {
		case errors.Is(err, api.ErrNotFound):
			return failf("user %q does not exist: see 'hearth user ls'", ops[0])
		case errors.Is(err, api.ErrRefused):
			return failf("%s: make another owner first ('hearth user add <name> --role owner')", err)
		}
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "user %s removed; their sessions ended\n", ops[0])
	return err
}

func (c *cli) userPasswd(ctx context.Context, args []string) error {
	const name = "user passwd"
	fs := c.flags(name)
	oldFile := fs.String("old-file", "", "a file holding the current password; - reads stdin")
	newFile := fs.String("new-file", "", "a file holding the new password; - reads stdin")
	ops, err := parse(fs, name, args, []string{"<name>"}, nil)
	if err != nil {
		return err
	}
	if *oldFile == "" || *newFile == "" {
		return &usageError{cmd: name, msg: "--old-file and --new-file are required"}
	}
	if *oldFile == "-" && *newFile == "-" {
		return &usageError{cmd: name, msg: "only one of --old-file and --new-file can be stdin"}
	}
	oldPw, err := readPassword(*oldFile, os.Stdin)
	if err != nil {
		return err
	}
	newPw, err := readPassword(*newFile, os.Stdin)
	if err != nil {
		return err
	}
	if err := c.api().ChangePassword(ctx, ops[0], oldPw, newPw); err != nil {
		return accountError(err)
	}
	_, err = fmt.Fprintf(c.stdout, "password of %s changed; their sessions ended\n", ops[0])
	return err
}

// accountError explains sign-in errors.
func accountError(err error) error {
	var re *api.RetryError
	switch {
	case errors.As(err, &re):
		return failf("too many wrong passwords: try again in %s", re.After)
	case errors.Is(err, api.ErrUnauthorized):
		return failf("%s: check the current password", err)
	}
	return err
}

func (c *cli) sessionList(ctx context.Context, args []string) error {
	fs := c.flags("session ls")
	user := fs.String("user", "", "only this user's sessions")
	if _, err := parse(fs, "session ls", args, nil, nil); err != nil {
		return err
	}
	list, err := c.api().Sessions(ctx, *user)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(nonNilSlice(list))
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no one is signed in")
		return err
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "ID\tUSER\tROLE\tSIGNED IN\tLAST SEEN\tENDS\tBROWSER")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.User, s.Role, c.when(s.Created), c.when(s.LastSeen), c.when(s.Expires), dash(clip(s.UserAgent, 40)))
	}
	return tw.Flush()
}

// clip cuts s to n runes, with an ellipsis.
func clip(s string, n int) string {
	r := []rune(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

func (c *cli) sessionRevoke(ctx context.Context, args []string) error {
	fs := c.flags("session revoke")
	user := fs.String("user", "", "the session's user")
	ops, err := parse(fs, "session revoke", args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	if err := c.api().RevokeSession(ctx, *user, ops[0]); err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return failf("no session %q: see 'hearth session ls'", ops[0])
		}
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "session %s revoked\n", ops[0])
	return err
}

// readPassword reads a password from a file, or stdin for "-": the first
// line, without its line end (a password may hold spaces).
func readPassword(path string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", failf("the password file %s is empty", path)
	}
	return line, nil
}
