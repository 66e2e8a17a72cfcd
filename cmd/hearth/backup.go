package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
)

// backupCommands are the backup group's lines of the command table.
func backupCommands() []command {
	return []command{
		{"backup now", "<app> [--no-wait]", "back an app up to the box's destination now", (*cli).backupNow},
		{"backup ls", "[app]", "the snapshots at the box's destination", (*cli).backupList},
		{"backup restore", "<app> [--snapshot id] [--as new-id] [--no-wait]", "put an app's data back from a snapshot (the newest by default), or into a new app", (*cli).backupRestore},
		{"backup config", "[--local path | --s3 url --bucket b --access-key k --secret-key-file f | --sftp user@host:/path --port n --host-key key] [--every hours] [--keep-last n] [--keep-daily n] [--keep-weekly n] [--keep-monthly n] [--updates auto|notify|off] [--window HH:MM-HH:MM]",
			"show the backup and update policy, or change it", (*cli).backupConfig},
		{"backup app", "<app> [--every hours] [--off] [--keep-last n] [--keep-daily n] [--keep-weekly n] [--keep-monthly n] [--updates auto|notify|off] [--window HH:MM-HH:MM]",
			"set one app's backup and update policy (what is not given takes the box's)", (*cli).backupApp},
	}
}

func (c *cli) backupApp(ctx context.Context, args []string) error {
	const name = "backup app"
	fs := c.flags(name)
	every := fs.Int("every", 0, "back the app up every this many hours (0: the box's schedule)")
	off := fs.Bool("off", false, "no scheduled backups of this app")
	keep := [4]*int{fs.Int("keep-last", -1, "keep the last n snapshots"), fs.Int("keep-daily", -1, "keep one a day for n days"),
		fs.Int("keep-weekly", -1, "keep one a week for n weeks"), fs.Int("keep-monthly", -1, "keep one a month for n months")}
	updates := fs.String("updates", "", "the update policy: auto, notify or off (default: the box's)")
	window := fs.String("window", "", "the maintenance window, HH:MM-HH:MM (default: the box's)")
	ops, err := parse(fs, name, args, []string{"<app>"}, nil)
	if err != nil {
		return err
	}
	req := api.AppBackupSettings{EveryHours: *every, Off: *off, UpdatePolicy: *updates, Window: *window}
	if *keep[0] >= 0 || *keep[1] >= 0 || *keep[2] >= 0 || *keep[3] >= 0 {
		req.Retention = &api.Retention{Last: max(*keep[0], 0), Daily: max(*keep[1], 0), Weekly: max(*keep[2], 0), Monthly: max(*keep[3], 0)}
	}
	st, err := c.api().SetAppBackup(ctx, ops[0], req)
	if err != nil {
		return appError(err, ops[0])
	}
	if c.json {
		return c.printJSON(st)
	}
	tw := newTable(c.stdout)
	sched := "the box's"
	switch {
	case st.Off:
		sched = "off"
	case st.EveryHours > 0:
		sched = fmt.Sprintf("every %d hours", st.EveryHours)
	}
	fmt.Fprintf(tw, "%s backups:\t%s\n", st.App, sched)
	keepText := "the box's"
	if st.Retention != nil {
		keepText = retentionText(*st.Retention)
	}
	fmt.Fprintf(tw, "retention:\t%s\n", keepText)
	fmt.Fprintf(tw, "updates:\t%s, window %s\n", orBox(st.UpdatePolicy), orBox(st.Window))
	return tw.Flush()
}

func orBox(s string) string {
	if s == "" {
		return "the box's"
	}
	return s
}

func (c *cli) backupNow(ctx context.Context, args []string) error {
	fs := c.flags("backup now")
	noWait := fs.Bool("no-wait", false, "print the operation's id and return at once")
	ops, err := parse(fs, "backup now", args, []string{"<app>"}, nil)
	if err != nil {
		return err
	}
	op, err := c.api().BackupNow(ctx, ops[0])
	if err != nil {
		return appError(err, ops[0])
	}
	return c.follow(ctx, op, *noWait)
}

func (c *cli) backupList(ctx context.Context, args []string) error {
	fs := c.flags("backup ls")
	ops, err := parse(fs, "backup ls", args, nil, []string{"[app]"})
	if err != nil {
		return err
	}
	app := ""
	if len(ops) > 0 {
		app = ops[0]
	}
	snaps, err := c.api().Snapshots(ctx, app)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(nonNilSlice(snaps))
	}
	if len(snaps) == 0 {
		fmt.Fprintln(c.stdout, "No snapshots yet: 'hearth backup now <app>' takes one.")
		return nil
	}
	tw := newTable(c.stdout)
	fmt.Fprintln(tw, "SNAPSHOT\tAPP\tTIME\tHOST\tTAGS")
	for _, s := range snaps {
		var tags []string
		for _, t := range s.Tags {
			if !strings.HasPrefix(t, "app:") {
				tags = append(tags, t)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ShortID, s.App, c.when(s.Time), s.Host, dash(strings.Join(tags, ",")))
	}
	return tw.Flush()
}

func (c *cli) backupRestore(ctx context.Context, args []string) error {
	fs := c.flags("backup restore")
	snapshot := fs.String("snapshot", "", "the snapshot to restore (default: the app's newest)")
	as := fs.String("as", "", "restore into a new app of this id (a clone)")
	noWait := fs.Bool("no-wait", false, "print the operation's id and return at once")
	ops, err := parse(fs, "backup restore", args, []string{"<app>"}, nil)
	if err != nil {
		return err
	}
	op, err := c.api().Restore(ctx, api.RestoreRequest{App: ops[0], Snapshot: *snapshot, As: *as})
	if err != nil {
		return err
	}
	return c.follow(ctx, op, *noWait)
}

func (c *cli) backupConfig(ctx context.Context, args []string) error {
	const name = "backup config"
	fs := c.flags(name)
	local := fs.String("local", "", "back up to this folder (a USB disk's mount)")
	s3 := fs.String("s3", "", "back up to this S3 endpoint (https://s3.example.com)")
	bucket := fs.String("bucket", "", "the S3 bucket")
	prefix := fs.String("prefix", "", "a folder in the S3 bucket")
	accessKey := fs.String("access-key", "", "the S3 access key id")
	secretFile := fs.String("secret-key-file", "", "a file holding the S3 secret key (- reads it from stdin)")
	sftp := fs.String("sftp", "", "back up over SFTP to user@host:/path")
	port := fs.Int("port", 0, "the SFTP server's port (default 22)")
	hostKey := fs.String("host-key", "", "the SFTP server's public host key (\"ssh-ed25519 AAAA...\")")
	every := fs.Int("every", -1, "back each app up every this many hours (0: not on a schedule)")
	keepLast := fs.Int("keep-last", -1, "keep the last n snapshots")
	keepDaily := fs.Int("keep-daily", -1, "keep one snapshot a day for n days")
	keepWeekly := fs.Int("keep-weekly", -1, "keep one snapshot a week for n weeks")
	keepMonthly := fs.Int("keep-monthly", -1, "keep one snapshot a month for n months")
	updates := fs.String("updates", "", "the update policy: auto, notify or off")
	window := fs.String("window", "", "the maintenance window, HH:MM-HH:MM (\"any\": any time)")
	if _, err := parse(fs, name, args, nil, nil); err != nil {
		return err
	}
	cur, err := c.api().BackupSettings(ctx)
	if err != nil {
		return err
	}
	changed := false
	fs.Visit(func(f *flag.Flag) { changed = changed || f.Name != "json" })
	if !changed {
		if c.json {
			return c.printJSON(cur)
		}
		c.showBackup(cur, "")
		return nil
	}
	req := cur.BoxBackupSettings
	kinds := 0
	for _, s := range []string{*local, *s3, *sftp} {
		if s != "" {
			kinds++
		}
	}
	if kinds > 1 {
		return &usageError{cmd: name, msg: "--local, --s3 and --sftp do not go together"}
	}
	switch {
	case *local != "":
		req.Destination = &api.BackupDestination{Kind: "local", Path: *local}
	case *s3 != "":
		d := &api.BackupDestination{Kind: "s3", Endpoint: *s3, Bucket: *bucket, Path: *prefix, AccessKeyID: *accessKey}
		if *secretFile != "" {
			secret, err := readSecret(*secretFile, os.Stdin)
			if err != nil {
				return err
			}
			d.SecretAccessKey = secret
		}
		req.Destination = d
	case *sftp != "":
		userHost, path, ok := strings.Cut(*sftp, ":")
		user, host, ok2 := strings.Cut(userHost, "@")
		if !ok || !ok2 {
			return &usageError{cmd: name, msg: fmt.Sprintf("--sftp %q: want user@host:/path", *sftp)}
		}
		req.Destination = &api.BackupDestination{Kind: "sftp", User: user, Host: host, Path: path, Port: *port, HostKey: *hostKey}
	}
	for _, v := range []struct {
		flag string
		n    *int
		dst  *int
	}{{"every", every, &req.EveryHours}, {"keep-last", keepLast, &req.Retention.Last}, {"keep-daily", keepDaily, &req.Retention.Daily},
		{"keep-weekly", keepWeekly, &req.Retention.Weekly}, {"keep-monthly", keepMonthly, &req.Retention.Monthly}} {
		if *v.n >= 0 {
			*v.dst = *v.n
		}
	}
	if *updates != "" {
		req.UpdatePolicy = *updates
	}
	switch *window {
	case "":
	case "any":
		req.Window = ""
	default:
		req.Window = *window
	}
	reply, err := c.api().SetBackupSettings(ctx, req)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(reply)
	}
	c.showBackup(reply.BackupSettings, reply.RecoveryKey)
	return nil
}

// showBackup writes the backup picture, and the recovery key when the
// reply carries it (once in the box's life).
func (c *cli) showBackup(s api.BackupSettings, recoveryKey string) {
	tw := newTable(c.stdout)
	dest := "none ('hearth backup config --local /media/usb' sets one up)"
	if d := s.Destination; d != nil {
		switch d.Kind {
		case "local":
			dest = "folder " + d.Path
		case "s3":
			dest = "s3 " + strings.TrimSuffix(d.Endpoint, "/") + "/" + d.Bucket
			if d.Path != "" {
				dest += "/" + strings.Trim(d.Path, "/")
			}
		case "sftp":
			dest = fmt.Sprintf("sftp %s@%s:%s", d.User, d.Host, d.Path)
			if d.Port != 0 {
				dest += fmt.Sprintf(" (port %d)", d.Port)
			}
		}
	}
	fmt.Fprintf(tw, "destination:\t%s\n", dest)
	sched := "not on a schedule"
	if s.EveryHours > 0 {
		sched = fmt.Sprintf("every %d hours", s.EveryHours)
	}
	fmt.Fprintf(tw, "schedule:\t%s\n", sched)
	fmt.Fprintf(tw, "retention:\t%s\n", retentionText(s.Retention))
	policy := s.UpdatePolicy
	if policy == "" {
		policy = "notify"
	}
	win := "any time"
	if s.Window != "" {
		win = s.Window
	}
	fmt.Fprintf(tw, "updates:\t%s, window %s\n", policy, win)
	if s.SSHPublicKey != "" {
		fmt.Fprintf(tw, "ssh key:\t%s\n", s.SSHPublicKey)
	}
	_ = tw.Flush()
	if len(s.Apps) > 0 {
		fmt.Fprintln(c.stdout)
		tw = newTable(c.stdout)
		fmt.Fprintln(tw, "APP\tLAST BACKUP\tNEXT\tSTATE")
		for _, a := range s.Apps {
			st := "ok"
			switch {
			case a.LastError != "":
				st = "failed: " + a.LastError
			case a.Warning != "":
				st = a.Warning
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.App, c.when(a.LastBackup), c.when(a.NextBackup), st)
		}
		_ = tw.Flush()
	}
	if recoveryKey != "" {
		fmt.Fprintf(c.stdout, "\nRecovery key, shown this once: keep it somewhere other than this box.\n"+
			"A new box needs it to restore these backups; nobody can recover it for you.\n\n    %s\n", recoveryKey)
	}
}

func retentionText(r api.Retention) string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{r.Last, "last"}, {r.Daily, "daily"}, {r.Weekly, "weekly"}, {r.Monthly, "monthly"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p.what, p.n))
		}
	}
	if len(parts) == 0 {
		return "keep every snapshot"
	}
	return strings.Join(parts, ", ")
}

// readSecret reads a one-line secret from a file, or from stdin for "-".
func readSecret(path string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read the secret key: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", errors.New("the secret key file is empty")
	}
	return s, nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
