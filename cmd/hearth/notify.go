package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

// notifyCommands are the notices and smtp groups' lines of the command
// table. "notices read" and "notices dismiss" come before "notices",
// which would otherwise take their words as arguments.
func notifyCommands() []command {
	return []command{
		{"notices read", "<id>", "mark a notice read", (*cli).noticeRead},
		{"notices dismiss", "<id>", "hide a notice (the same trouble stays quiet for six hours)", (*cli).noticeDismiss},
		{"notices", "[--all]", "what needs your eye: failed or stale backups, undone updates, memory, certificates, disk; --all shows dismissed ones", (*cli).notices},
		{"smtp show", "", "the mail server notices are sent through (the password is not shown)", (*cli).smtpShow},
		{"smtp set", "--host host --from address --to address [--to address]... [--port n] [--security starttls|tls] [--user user --password-file file|-] | --off",
			"mail notices through your mail provider (the password is read from a file, - for stdin)", (*cli).smtpSet},
		{"smtp test", "", "send a test mail now", (*cli).smtpTest},
	}
}

func (c *cli) notices(ctx context.Context, args []string) error {
	fs := c.flags("notices")
	all := fs.Bool("all", false, "show dismissed notices too")
	if _, err := parse(fs, "notices", args, nil, nil); err != nil {
		return err
	}
	list, err := c.api().Notices(ctx)
	if err != nil {
		return err
	}
	var shown []api.Notice
	hidden := 0
	for _, n := range list {
		if n.Dismissed && !*all {
			hidden++
			continue
		}
		shown = append(shown, n)
	}
	if c.json {
		return c.printJSON(nonNilSlice(shown))
	}
	if len(shown) == 0 {
		fmt.Fprintln(c.stdout, "Nothing needs your eye.")
	}
	for i, n := range shown {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		c.showNotice(n)
	}
	if hidden > 0 {
		fmt.Fprintf(c.stdout, "\n(%d dismissed: 'hearth notices --all' shows them)\n", hidden)
	}
	return nil
}

// showNotice prints one notice: its header line, its text and its mail.
func (c *cli) showNotice(n api.Notice) {
	status := "new"
	switch {
	case n.Dismissed:
		status = "dismissed"
	case n.Read:
		status = "read"
	}
	about := n.Kind
	if n.App != "" {
		about += " " + n.App
	}
	fmt.Fprintf(c.stdout, "%s  %-9s  %s  %s: %s\n", n.ID, status, c.when(n.Time), about, n.Title)
	if n.Count > 1 {
		fmt.Fprintf(c.stdout, "    happened %d times, the last at %s\n", n.Count, c.when(n.Last))
	}
	for _, l := range strings.Split(strings.TrimRight(n.Body, "\n"), "\n") {
		if l != "" {
			fmt.Fprintf(c.stdout, "    %s\n", l)
		}
	}
	switch n.Mail {
	case "":
		fmt.Fprintln(c.stdout, "    mail: none (no mail settings then: 'hearth smtp set')")
	case "failed":
		fmt.Fprintf(c.stdout, "    mail: failed: %s\n", oneLine(n.MailError))
	case "pending":
		line := "    mail: pending"
		if n.MailError != "" {
			line += ", the last try failed: " + oneLine(n.MailError)
		}
		fmt.Fprintln(c.stdout, line)
	default:
		fmt.Fprintf(c.stdout, "    mail: %s\n", n.Mail)
	}
}

func (c *cli) noticeRead(ctx context.Context, args []string) error {
	return c.noticeAction(ctx, "notices read", args, c.api().ReadNotice, "read")
}

func (c *cli) noticeDismiss(ctx context.Context, args []string) error {
	return c.noticeAction(ctx, "notices dismiss", args, c.api().DismissNotice, "dismissed")
}

func (c *cli) noticeAction(ctx context.Context, name string, args []string, fn func(context.Context, string) error, done string) error {
	fs := c.flags(name)
	ops, err := parse(fs, name, args, []string{"<id>"}, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, ops[0]); err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return failf("no notice %q: see 'hearth notices --all'", ops[0])
		}
		return err
	}
	if c.json {
		return c.printJSON(map[string]string{"id": ops[0], "state": done})
	}
	fmt.Fprintf(c.stdout, "notice %s %s\n", ops[0], done)
	return nil
}

func (c *cli) smtpShow(ctx context.Context, args []string) error {
	fs := c.flags("smtp show")
	if _, err := parse(fs, "smtp show", args, nil, nil); err != nil {
		return err
	}
	s, err := c.api().SMTPSettings(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(s)
	}
	c.showSMTP(s)
	return nil
}

func (c *cli) smtpSet(ctx context.Context, args []string) error {
	const name = "smtp set"
	fs := c.flags(name)
	host := fs.String("host", "", "the mail server (smtp.example.net)")
	port := fs.Int("port", 0, "its port (default 587 for starttls, 465 for tls)")
	security := fs.String("security", api.SMTPStartTLS, "starttls (upgrade a plain connection) or tls (TLS from the start)")
	user := fs.String("user", "", "the login at the mail server")
	passwordFile := fs.String("password-file", "", "a file holding the password (- reads stdin); unset keeps the stored one")
	from := fs.String("from", "", "the sender address (Hearth <box@example.net>)")
	off := fs.Bool("off", false, "send no more mail and forget the settings")
	var to stringList
	fs.Var(&to, "to", "an address to send notices to (repeat for more)")
	if _, err := parse(fs, name, args, nil, nil); err != nil {
		return err
	}
	req := api.SetSMTPRequest{}
	if !*off {
		if *host == "" || *from == "" || len(to) == 0 {
			return &usageError{cmd: name, msg: "--host, --from and --to are required (or --off)"}
		}
		req = api.SetSMTPRequest{Host: *host, Port: *port, Security: *security, User: *user, From: *from, To: to}
		if *passwordFile != "" {
			if *user == "" {
				return &usageError{cmd: name, msg: "--password-file needs --user"}
			}
			pw, err := readSecret(*passwordFile, os.Stdin)
			if err != nil {
				return fmt.Errorf("--password-file: %w", err)
			}
			req.Password = pw
		}
	}
	s, err := c.api().SetSMTP(ctx, req)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(s)
	}
	c.showSMTP(s)
	if s.Host != "" {
		fmt.Fprintln(c.stdout, "\n'hearth smtp test' sends a test mail.")
	}
	return nil
}

func (c *cli) smtpTest(ctx context.Context, args []string) error {
	fs := c.flags("smtp test")
	if _, err := parse(fs, "smtp test", args, nil, nil); err != nil {
		return err
	}
	err := c.api().TestSMTP(ctx)
	switch {
	case errors.Is(err, api.ErrRefused):
		msg := strings.TrimPrefix(strings.TrimSuffix(oneLine(err.Error()), ": "+api.ErrRefused.Error()), "test mail: ")
		return failf("the test mail was not sent: %s: check the settings ('hearth smtp show', 'hearth smtp set') and try again", msg)
	case errors.Is(err, api.ErrInvalid):
		return failf("%s: set them with 'hearth smtp set'", strings.TrimSuffix(oneLine(err.Error()), ": "+api.ErrInvalid.Error()))
	case err != nil:
		return err
	}
	s, err := c.api().SMTPSettings(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(map[string]any{"sent": true, "to": nonNilSlice(s.To)})
	}
	fmt.Fprintf(c.stdout, "test mail sent to %s through %s: look in the inbox (and the spam folder)\n", strings.Join(s.To, ", "), s.Host)
	return nil
}

// showSMTP prints the mail settings.
func (c *cli) showSMTP(s api.SMTPSettings) {
	tw := newTable(c.stdout)
	if s.Host == "" {
		fmt.Fprintf(tw, "mail:\toff ('hearth smtp set --host smtp.example.net --user you --password-file - --from box@example.net --to you@example.net' turns it on)\n")
		_ = tw.Flush()
		return
	}
	port := s.Port
	if port == 0 {
		port = 587
		if s.Security == api.SMTPTLS {
			port = 465
		}
	}
	fmt.Fprintf(tw, "mail:\ton\n")
	fmt.Fprintf(tw, "server:\t%s (%s)\n", net.JoinHostPort(s.Host, strconv.Itoa(port)), s.Security)
	login := "none"
	if s.User != "" {
		login = s.User + " (no password)"
		if s.PasswordSet {
			login = s.User + " (password stored, not shown)"
		}
	}
	fmt.Fprintf(tw, "login:\t%s\n", login)
	fmt.Fprintf(tw, "from:\t%s\n", s.From)
	fmt.Fprintf(tw, "to:\t%s\n", strings.Join(s.To, ", "))
	_ = tw.Flush()
}
