package api

import (
	"context"
	"net/url"
	"time"
)

// BackupService is the part of Service that backs apps up and restores
// them, and keeps the backup and update policies.
type BackupService interface {
	// BackupSettings returns the box's policy (secrets left out), each app's
	// policy and last backup, and the box's public SSH key for SFTP.
	BackupSettings(ctx context.Context) (BackupSettings, error)
	// SetBackupSettings replaces the box's policy. When it sets up the
	// first destination, the repository is made there and the reply
	// carries the recovery key: shown this once, never again.
	SetBackupSettings(ctx context.Context, req BoxBackupSettings) (BackupSettingsReply, error)
	// SetAppBackup replaces one app's policy.
	SetAppBackup(ctx context.Context, app string, req AppBackupSettings) (AppBackupState, error)
	// BackupNow backs an app up to the box's destination.
	BackupNow(ctx context.Context, app string) (Operation, error)
	// Snapshots lists the snapshots at the box's destination ("" = of every
	// app), oldest first.
	Snapshots(ctx context.Context, app string) ([]Snapshot, error)
	// Restore puts an app's data back from a snapshot, into the same app or
	// a new one (RestoreRequest.As).
	Restore(ctx context.Context, req RestoreRequest) (Operation, error)
	// RestoreBox brings apps back onto this box from a repository made by
	// another (or this box before a reinstall): the first-boot wizard's
	// restore step. It starts one restore operation per app.
	RestoreBox(ctx context.Context, req RestoreBoxRequest) ([]Operation, error)
}

// Update policies.
const (
	UpdateAuto   = "auto"
	UpdateNotify = "notify"
	UpdateOff    = "off"
)

// BackupDestination is where backups go: kind "local" (Path, a folder such
// as a USB disk), "s3" (Endpoint, Bucket, optional Path prefix, the keys)
// or "sftp" (User, Host, Port, Path, and the server's HostKey).
type BackupDestination struct {
	Kind     string `json:"kind"`
	Path     string `json:"path,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Bucket   string `json:"bucket,omitempty"`
	// AccessKeyID and SecretAccessKey log in to S3. The secret is never
	// given back; an empty one in a request keeps the one the box has.
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	User            string `json:"user,omitempty"`
	Host            string `json:"host,omitempty"`
	Port            int    `json:"port,omitempty"`
	HostKey         string `json:"hostKey,omitempty"`
}

// Retention keeps the last N snapshots and the newest of N days, weeks and
// months; all zero keeps every snapshot.
type Retention struct {
	Last    int `json:"last,omitempty"`
	Daily   int `json:"daily,omitempty"`
	Weekly  int `json:"weekly,omitempty"`
	Monthly int `json:"monthly,omitempty"`
}

// BoxBackupSettings is the box's backup and update policy.
type BoxBackupSettings struct {
	Destination *BackupDestination `json:"destination,omitempty"`
	// EveryHours is how often each app is backed up (0 = not on a schedule).
	EveryHours int       `json:"everyHours,omitempty"`
	Retention  Retention `json:"retention,omitzero"`
	// UpdatePolicy is auto, notify or off ("" = notify).
	UpdatePolicy string `json:"updatePolicy,omitempty"`
	// Window is the maintenance window, "HH:MM-HH:MM" local time ("" = any).
	Window string `json:"window,omitempty"`
}

// BackupSettings is the whole backup picture of the box.
type BackupSettings struct {
	BoxBackupSettings
	// SSHPublicKey is the box's key for SFTP destinations: add it to the
	// server's authorized_keys.
	SSHPublicKey string           `json:"sshPublicKey,omitempty"`
	Apps         []AppBackupState `json:"apps"`
}

// BackupSettingsReply answers SetBackupSettings.
type BackupSettingsReply struct {
	BackupSettings
	// RecoveryKey is the repository's key, set only in the reply that made
	// it: the owner keeps it elsewhere to restore onto a new box.
	RecoveryKey string `json:"recoveryKey,omitempty"`
}

// AppBackupSettings is one app's policy; zero fields take the box's.
type AppBackupSettings struct {
	EveryHours   int        `json:"everyHours,omitempty"`
	Off          bool       `json:"off,omitempty"`
	Retention    *Retention `json:"retention,omitempty"`
	UpdatePolicy string     `json:"updatePolicy,omitempty"`
	Window       string     `json:"window,omitempty"`
}

// AppBackupState is an app's policy and how its backups went.
type AppBackupState struct {
	App string `json:"app"`
	AppBackupSettings
	LastAttempt  time.Time `json:"lastAttempt,omitzero"`
	LastBackup   time.Time `json:"lastBackup,omitzero"`
	LastSnapshot string    `json:"lastSnapshot,omitempty"`
	LastError    string    `json:"lastError,omitempty"`
	// NextBackup is when the schedule backs it up next (zero: never).
	NextBackup time.Time `json:"nextBackup,omitzero"`
	// Warning is set when the app has no backup newer than a day.
	Warning string `json:"warning,omitempty"`
}

// Snapshot is one backup of one app.
type Snapshot struct {
	ID      string    `json:"id"`
	ShortID string    `json:"shortId"`
	App     string    `json:"app"`
	Time    time.Time `json:"time"`
	Host    string    `json:"host"`
	Tags    []string  `json:"tags,omitempty"`
}

// RestoreRequest restores an app from a snapshot at the box's destination.
type RestoreRequest struct {
	App string `json:"app"`
	// Snapshot is the snapshot's id ("" = the app's newest).
	Snapshot string `json:"snapshot,omitempty"`
	// As restores into a new app of that id (a clone); "" = into App.
	As string `json:"as,omitempty"`
}

// RestoreBoxRequest restores apps from a repository onto this box.
type RestoreBoxRequest struct {
	Destination BackupDestination `json:"destination"`
	// RecoveryKey is the key shown when backups were set up.
	RecoveryKey string `json:"recoveryKey"`
	// Apps to restore (empty = every app in the repository), each from its
	// newest snapshot.
	Apps []string `json:"apps,omitempty"`
}

// BackupSettings implements BackupService.
func (c *Client) BackupSettings(ctx context.Context) (BackupSettings, error) {
	var s BackupSettings
	err := c.call(ctx, "GET", "/v1/backup", nil, nil, &s)
	return s, err
}

// SetBackupSettings implements BackupService.
func (c *Client) SetBackupSettings(ctx context.Context, req BoxBackupSettings) (BackupSettingsReply, error) {
	var s BackupSettingsReply
	err := c.call(ctx, "PUT", "/v1/backup", nil, req, &s)
	return s, err
}

// SetAppBackup implements BackupService.
func (c *Client) SetAppBackup(ctx context.Context, app string, req AppBackupSettings) (AppBackupState, error) {
	var s AppBackupState
	err := c.call(ctx, "PUT", "/v1/backup/apps/"+url.PathEscape(app), nil, req, &s)
	return s, err
}

// BackupNow implements BackupService.
func (c *Client) BackupNow(ctx context.Context, app string) (Operation, error) {
	var op Operation
	err := c.call(ctx, "POST", "/v1/backup/apps/"+url.PathEscape(app), nil, struct{}{}, &op)
	return op, err
}

// Snapshots implements BackupService.
func (c *Client) Snapshots(ctx context.Context, app string) ([]Snapshot, error) {
	var q url.Values
	if app != "" {
		q = url.Values{"app": {app}}
	}
	var out []Snapshot
	err := c.call(ctx, "GET", "/v1/backup/snapshots", q, nil, &out)
	return out, err
}

// Restore implements BackupService.
func (c *Client) Restore(ctx context.Context, req RestoreRequest) (Operation, error) {
	var op Operation
	err := c.call(ctx, "POST", "/v1/backup/restore", nil, req, &op)
	return op, err
}

// RestoreBox implements BackupService.
func (c *Client) RestoreBox(ctx context.Context, req RestoreBoxRequest) ([]Operation, error) {
	var ops []Operation
	err := c.call(ctx, "POST", "/v1/backup/restore-box", nil, req, &ops)
	return ops, err
}
