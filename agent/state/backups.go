package state

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketBackups holds the backup and update policies: key "_box" for the
// box (not a slug, so no app can take it) and one key per app id.
var bucketBackups = []byte("backups")

// boxBackupKey is the box's record in bucket backups.
var boxBackupKey = []byte("_box")

// Operation kinds of backups (Operation.Kind).
const (
	KindBackup  = "backup"
	KindRestore = "restore"
)

// Update policies (BoxBackup.UpdatePolicy, AppBackup.UpdatePolicy).
const (
	UpdateAuto   = "auto"   // update in the maintenance window
	UpdateNotify = "notify" // tell the owner, do nothing
	UpdateOff    = "off"
)

// BackupDestination is where the box's repository lives; see the backup
// package's Destination, which it mirrors field for field.
type BackupDestination struct {
	Kind            string `json:"kind"`
	Path            string `json:"path,omitempty"`
	Endpoint        string `json:"endpoint,omitempty"`
	Bucket          string `json:"bucket,omitempty"`
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	User            string `json:"user,omitempty"`
	Host            string `json:"host,omitempty"`
	Port            int    `json:"port,omitempty"`
	HostKey         string `json:"hostKey,omitempty"`
}

// Retention says which snapshots are kept: the last N, and the newest of
// each of N days, weeks and months. All zero keeps every snapshot.
type Retention struct {
	Last    int `json:"last,omitempty"`
	Daily   int `json:"daily,omitempty"`
	Weekly  int `json:"weekly,omitempty"`
	Monthly int `json:"monthly,omitempty"`
}

// BoxBackup is the box's backup and update policy, the default of every app.
type BoxBackup struct {
	// Destination is nil until the owner sets one up.
	Destination *BackupDestination `json:"destination,omitempty"`
	// EveryHours is how often each app is backed up; 0 means never on a
	// schedule.
	EveryHours int       `json:"everyHours,omitempty"`
	Retention  Retention `json:"retention,omitzero"`
	// UpdatePolicy is auto, notify or off ("" = notify).
	UpdatePolicy string `json:"updatePolicy,omitempty"`
	// Window is the maintenance window, "HH:MM-HH:MM" in the box's local
	// time ("" = any time).
	Window string `json:"window,omitempty"`
	// KeyShown says that the owner was shown the recovery key (or gave it,
	// restoring the box): it is never shown again.
	KeyShown bool `json:"keyShown,omitempty"`
}

// AppBackup is one app's backup and update policy, and how its last backup
// went. Zero fields take the box's.
type AppBackup struct {
	App string `json:"app"`
	// EveryHours overrides the box's; Off turns scheduled backups off.
	EveryHours   int        `json:"everyHours,omitempty"`
	Off          bool       `json:"off,omitempty"`
	Retention    *Retention `json:"retention,omitempty"`
	UpdatePolicy string     `json:"updatePolicy,omitempty"`
	Window       string     `json:"window,omitempty"`
	// LastAttempt, LastBackup and LastSnapshot say when a backup last ran,
	// when one last succeeded and which snapshot it made; LastError says
	// why the last attempt failed ("" when it did not).
	LastAttempt  time.Time `json:"lastAttempt,omitzero"`
	LastBackup   time.Time `json:"lastBackup,omitzero"`
	LastSnapshot string    `json:"lastSnapshot,omitempty"`
	LastError    string    `json:"lastError,omitempty"`
	// NotifiedVersion is the newest version the owner was told about.
	NotifiedVersion string `json:"notifiedVersion,omitempty"`
}

var windowPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)

func validateRetention(field string, r Retention) []error {
	var errs []error
	for _, f := range []struct {
		n string
		v int
	}{{"last", r.Last}, {"daily", r.Daily}, {"weekly", r.Weekly}, {"monthly", r.Monthly}} {
		if f.v < 0 || f.v > 10000 {
			errs = append(errs, &FieldError{Field: field + "." + f.n, Reason: fmt.Sprintf("%d must be 0 to 10000", f.v)})
		}
	}
	return errs
}

func validatePolicy(policy, window string, every int) []error {
	var errs []error
	if policy != "" {
		errs = append(errs, oneOf("updatePolicy", policy, UpdateAuto, UpdateNotify, UpdateOff))
	}
	if window != "" && !windowPattern.MatchString(window) {
		errs = append(errs, &FieldError{Field: "window", Reason: fmt.Sprintf("%q must be HH:MM-HH:MM", window)})
	}
	if every < 0 || every > 24*366 {
		errs = append(errs, &FieldError{Field: "everyHours", Reason: fmt.Sprintf("%d must be 0 to 8784", every)})
	}
	return errs
}

func validateBoxBackup(b BoxBackup) error {
	errs := validatePolicy(b.UpdatePolicy, b.Window, b.EveryHours)
	errs = append(errs, validateRetention("retention", b.Retention)...)
	if d := b.Destination; d != nil {
		errs = append(errs, oneOf("destination.kind", d.Kind, "local", "s3", "sftp"))
		for _, f := range []struct{ n, v string }{{"path", d.Path}, {"endpoint", d.Endpoint}, {"bucket", d.Bucket},
			{"accessKeyId", d.AccessKeyID}, {"secretAccessKey", d.SecretAccessKey}, {"user", d.User}, {"host", d.Host}, {"hostKey", d.HostKey}} {
			if len(f.v) > 4096 {
				errs = append(errs, &FieldError{Field: "destination." + f.n, Reason: "is longer than 4096 bytes"})
			}
		}
	}
	return errors.Join(errs...)
}

func validateAppBackup(a AppBackup) error {
	errs := append([]error{checkSlug("app", a.App)}, validatePolicy(a.UpdatePolicy, a.Window, a.EveryHours)...)
	if a.Retention != nil {
		errs = append(errs, validateRetention("retention", *a.Retention)...)
	}
	if a.LastSnapshot != "" {
		errs = append(errs, checkWord("lastSnapshot", a.LastSnapshot, 64, true))
	}
	return errors.Join(errs...)
}

// BoxBackup returns the box's backup policy (the zero one when never set).
func (tx *Tx) BoxBackup() (BoxBackup, error) {
	var b BoxBackup
	if _, err := tx.get(bucketBackups, boxBackupKey, &b); err != nil {
		return BoxBackup{}, err
	}
	return b, nil
}

// PutBoxBackup replaces the box's backup policy after validating it.
func (tx *Tx) PutBoxBackup(b BoxBackup) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateBoxBackup(b); err != nil {
		return err
	}
	return tx.put(bucketBackups, boxBackupKey, b)
}

// AppBackup returns an app's backup record; an app never configured nor
// backed up has the zero record with App set.
func (tx *Tx) AppBackup(app string) (AppBackup, error) {
	if err := checkSlug("app", app); err != nil {
		return AppBackup{}, err
	}
	b := AppBackup{App: app}
	if _, err := tx.get(bucketBackups, []byte(app), &b); err != nil {
		return AppBackup{}, err
	}
	return b, nil
}

// AppBackups returns every app's backup record, ordered by app.
func (tx *Tx) AppBackups() ([]AppBackup, error) {
	b, err := tx.bucket(bucketBackups)
	if err != nil {
		return nil, err
	}
	var out []AppBackup
	err = b.ForEach(func(k, v []byte) error {
		if string(k) == string(boxBackupKey) {
			return nil
		}
		var a AppBackup
		if err := decode(v, &a); err != nil {
			return fmt.Errorf("backups/%s: %w", k, err)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// PutAppBackup replaces an app's backup record after validating it;
// LastError is cut to MaxText bytes.
func (tx *Tx) PutAppBackup(a AppBackup) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateAppBackup(a); err != nil {
		return err
	}
	a.LastError = truncate(a.LastError)
	return tx.put(bucketBackups, []byte(a.App), a)
}

// BoxBackup is Tx.BoxBackup in a transaction of its own.
func (s *Store) BoxBackup() (BoxBackup, error) {
	var b BoxBackup
	err := s.View(func(tx *Tx) error {
		var err error
		b, err = tx.BoxBackup()
		return err
	})
	return b, err
}

// PutBoxBackup is Tx.PutBoxBackup in a transaction of its own.
func (s *Store) PutBoxBackup(b BoxBackup) error {
	return s.Update(func(tx *Tx) error { return tx.PutBoxBackup(b) })
}

// AppBackup is Tx.AppBackup in a transaction of its own.
func (s *Store) AppBackup(app string) (AppBackup, error) {
	var b AppBackup
	err := s.View(func(tx *Tx) error {
		var err error
		b, err = tx.AppBackup(app)
		return err
	})
	return b, err
}

// AppBackups is Tx.AppBackups in a transaction of its own.
func (s *Store) AppBackups() ([]AppBackup, error) {
	var out []AppBackup
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.AppBackups()
		return err
	})
	return out, err
}

// UpdateAppBackup reads an app's backup record, lets fn change it, and
// writes it back, in one transaction.
func (s *Store) UpdateAppBackup(app string, fn func(*AppBackup)) error {
	return s.Update(func(tx *Tx) error {
		b, err := tx.AppBackup(app)
		if err != nil {
			return err
		}
		fn(&b)
		return tx.PutAppBackup(b)
	})
}

// checkBackupRecords is verify's check of bucket backups: the box's record
// and one record per app, each under its own key.
func checkBackupRecords(tx *bolt.Tx, add func(string, ...any)) {
	_ = tx.Bucket(bucketBackups).ForEach(func(k, v []byte) error {
		if string(k) == string(boxBackupKey) {
			var b BoxBackup
			if err := decodeStrict(v, &b); err != nil {
				add("backups/%s: %v", k, err)
			}
			return nil
		}
		var a AppBackup
		if err := decodeStrict(v, &a); err != nil {
			add("backups/%s: %v", printable(k), err)
		} else if a.App != string(k) {
			add("backups/%s: holds the record of %s", printable(k), printable([]byte(a.App)))
		}
		return nil
	})
}

// PutAppBackup is Tx.PutAppBackup in a transaction of its own.
func (s *Store) PutAppBackup(a AppBackup) error {
	return s.Update(func(tx *Tx) error { return tx.PutAppBackup(a) })
}
