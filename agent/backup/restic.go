package backup

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TagApp prefixes the tag that names a snapshot's app: "app:<id>".
const TagApp = "app:"

// Snapshot is one backup of one app.
type Snapshot struct {
	ID      string    `json:"id"`
	ShortID string    `json:"shortId"`
	App     string    `json:"app"`
	Time    time.Time `json:"time"`
	Host    string    `json:"host"`
	Tags    []string  `json:"tags,omitempty"`
	// Bytes and Files are what the backup processed (set by Backup only).
	Bytes int64 `json:"bytes,omitempty"`
	Files int64 `json:"files,omitempty"`
	// Added is what this backup added to the repository, after
	// deduplication and compression (set by Backup only).
	Added int64 `json:"added,omitempty"`
}

// Status is a backup's progress.
type Status struct {
	Percent    float64
	BytesDone  int64
	BytesTotal int64
}

// Retention says which snapshots of an app forget keeps; zero keeps none
// of that kind. All zero keeps everything.
type Retention struct {
	Last    int `json:"last,omitempty"`
	Daily   int `json:"daily,omitempty"`
	Weekly  int `json:"weekly,omitempty"`
	Monthly int `json:"monthly,omitempty"`
}

// Validate names the field that is out of range.
func (r Retention) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"last", r.Last}, {"daily", r.Daily}, {"weekly", r.Weekly}, {"monthly", r.Monthly}} {
		if f.v < 0 || f.v > 10000 {
			return fmt.Errorf("retention.%s: %d must be 0 to 10000: %w", f.name, f.v, ErrInvalid)
		}
	}
	return nil
}

// Zero says that the retention keeps everything.
func (r Retention) Zero() bool { return r == Retention{} }

// Init makes the repository at dest, or does nothing when there is one.
func (c *Client) Init(ctx context.Context, dest Destination) error {
	if _, _, err := c.EnsureKey(); err != nil {
		return err
	}
	defer c.exclusive(dest)()
	_, err := c.run(ctx, invocation{dest: dest, args: []string{"init"}})
	// restic says so in words that differ by backend.
	if err != nil && (strings.Contains(err.Error(), "config file already exists") || strings.Contains(err.Error(), "already initialized")) {
		return nil
	}
	return err
}

// Request is one app's backup.
type Request struct {
	// App is the app's id; its data folder is DataRoot/App.
	App      string
	DataRoot string
	Meta     Meta
	// Tags are added to the app's tag ("reason:update").
	Tags     []string
	Progress func(Status)
}

// Backup writes the metadata file next to the app's data folder and backs
// up both as one snapshot tagged with the app. A backup that does not end
// leaves no snapshot: restic writes the snapshot last.
func (c *Client) Backup(ctx context.Context, dest Destination, req Request) (Snapshot, error) {
	if !ValidApp(req.App) {
		return Snapshot{}, fmt.Errorf("app %q: %w", req.App, ErrInvalid)
	}
	if !filepath.IsAbs(req.DataRoot) {
		return Snapshot{}, fmt.Errorf("data root %q must be absolute: %w", req.DataRoot, ErrInvalid)
	}
	for _, t := range req.Tags {
		if !tagPattern.MatchString(t) {
			return Snapshot{}, fmt.Errorf("tag %q: %w", t, ErrInvalid)
		}
	}
	dir := filepath.Join(req.DataRoot, req.App)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Snapshot{}, fmt.Errorf("data folder: %w", err)
	}
	meta := req.Meta
	meta.Format, meta.App = MetaFormat, req.App
	if meta.Time.IsZero() {
		meta.Time = time.Now().UTC()
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return Snapshot{}, fmt.Errorf("backup metadata: %w", err)
	}
	metaPath := dir + MetaSuffix
	if err := os.WriteFile(metaPath, b, 0o600); err != nil {
		return Snapshot{}, fmt.Errorf("backup metadata: %w", err)
	}
	defer os.Remove(metaPath)
	defer c.exclusive(dest)()
	args := []string{"backup", "--json", "--host", c.cfg.Host, "--tag", TagApp + req.App}
	for _, t := range req.Tags {
		args = append(args, "--tag", t)
	}
	args = append(args, "--", req.App, req.App+MetaSuffix)
	pr, pw := io.Pipe()
	var sum summary
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sum = readBackupJSON(pr, req.Progress)
	}()
	_, err = c.run(ctx, invocation{dest: dest, args: args, dir: req.DataRoot, stdout: pw})
	_ = pw.Close()
	wg.Wait()
	if err != nil {
		return Snapshot{}, err
	}
	if sum.SnapshotID == "" {
		return Snapshot{}, fmt.Errorf("restic backup: no summary in its output: %w", ErrRestic)
	}
	// The summary names the snapshot (restic 0.14: by its short id); no
	// second restic run is needed to describe it.
	tags := append([]string{TagApp + req.App}, req.Tags...)
	short := sum.SnapshotID
	if len(short) > 8 {
		short = short[:8]
	}
	return Snapshot{ID: sum.SnapshotID, ShortID: short, App: req.App, Time: meta.Time, Host: c.cfg.Host, Tags: tags,
		Bytes: sum.TotalBytes, Files: sum.TotalFiles, Added: sum.DataAdded}, nil
}

// tagPattern is a tag Hearth adds: key:value of safe characters.
var tagPattern = regexp.MustCompile(`^[a-z]+:[a-z0-9.-]{1,64}$`)

// summary is the last line of restic backup --json.
type summary struct {
	SnapshotID string `json:"snapshot_id"`
	TotalFiles int64  `json:"total_files_processed"`
	TotalBytes int64  `json:"total_bytes_processed"`
	DataAdded  int64  `json:"data_added"`
}

// readBackupJSON reads restic's status and summary lines until r ends.
func readBackupJSON(r io.Reader, progress func(Status)) summary {
	var sum summary
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var line struct {
			Type       string  `json:"message_type"`
			Percent    float64 `json:"percent_done"`
			BytesDone  int64   `json:"bytes_done"`
			TotalBytes int64   `json:"total_bytes"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line.Type {
		case "status":
			if progress != nil {
				progress(Status{Percent: line.Percent, BytesDone: line.BytesDone, BytesTotal: line.TotalBytes})
			}
		case "summary":
			_ = json.Unmarshal(sc.Bytes(), &sum)
		}
	}
	_, _ = io.Copy(io.Discard, r) // a line too long: drain, so restic never blocks
	return sum
}

// Snapshots lists the snapshots of app ("" = every app), oldest first.
func (c *Client) Snapshots(ctx context.Context, dest Destination, app string) ([]Snapshot, error) {
	args := []string{"snapshots", "--json"}
	if app != "" {
		if !ValidApp(app) {
			return nil, fmt.Errorf("app %q: %w", app, ErrInvalid)
		}
		args = append(args, "--tag", TagApp+app)
	}
	out, err := c.run(ctx, invocation{dest: dest, args: args})
	if err != nil {
		return nil, err
	}
	var raw []struct {
		ID       string    `json:"id"`
		ShortID  string    `json:"short_id"`
		Time     time.Time `json:"time"`
		Hostname string    `json:"hostname"`
		Tags     []string  `json:"tags"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("restic snapshots: %v: %w", err, ErrRestic)
	}
	var snaps []Snapshot
	for _, r := range raw {
		s := Snapshot{ID: r.ID, ShortID: r.ShortID, Time: r.Time, Host: r.Hostname, Tags: r.Tags}
		for _, t := range r.Tags {
			if a, ok := strings.CutPrefix(t, TagApp); ok && ValidApp(a) {
				s.App = a
			}
		}
		if s.App == "" {
			continue // not a snapshot of Hearth's
		}
		snaps = append(snaps, s)
	}
	return snaps, nil
}

// Restored is a snapshot restored into a staging folder.
type Restored struct {
	// Dir is the app's data folder as it was backed up.
	Dir  string
	Meta Meta
}

// Restore restores the snapshot id (of app) into staging, which it empties
// first, and reads its metadata. The caller moves Dir into place.
func (c *Client) Restore(ctx context.Context, dest Destination, id, app, staging string) (Restored, error) {
	if !snapshotPattern.MatchString(id) {
		return Restored{}, fmt.Errorf("snapshot %q: %w", id, ErrInvalid)
	}
	if !ValidApp(app) {
		return Restored{}, fmt.Errorf("app %q: %w", app, ErrInvalid)
	}
	if err := os.RemoveAll(staging); err != nil {
		return Restored{}, fmt.Errorf("staging folder: %w", err)
	}
	if err := os.MkdirAll(staging, 0o700); err != nil {
		return Restored{}, fmt.Errorf("staging folder: %w", err)
	}
	if _, err := c.run(ctx, invocation{dest: dest, args: []string{"restore", id, "--target", staging}}); err != nil {
		return Restored{}, err
	}
	b, err := os.ReadFile(filepath.Join(staging, app+MetaSuffix))
	if err != nil {
		return Restored{}, fmt.Errorf("snapshot %s holds no metadata of %s: %w", id, app, ErrInvalid)
	}
	meta, err := ReadMeta(b)
	if err != nil {
		return Restored{}, err
	}
	dir := filepath.Join(staging, app)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return Restored{}, fmt.Errorf("staging folder: %w", err)
		}
	}
	return Restored{Dir: dir, Meta: meta}, nil
}

var snapshotPattern = regexp.MustCompile(`^[0-9a-f]{8,64}$`)

// Forget removes the snapshots of app that r does not keep, and the data
// only they used. Stale locks of killed processes are removed first.
func (c *Client) Forget(ctx context.Context, dest Destination, app string, r Retention) error {
	if !ValidApp(app) {
		return fmt.Errorf("app %q: %w", app, ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Zero() {
		return nil
	}
	defer c.exclusive(dest)()
	if _, err := c.run(ctx, invocation{dest: dest, args: []string{"unlock"}}); err != nil {
		return err
	}
	args := []string{"forget", "--json", "--prune", "--tag", TagApp + app, "--group-by", ""}
	for _, k := range []struct {
		flag string
		n    int
	}{{"--keep-last", r.Last}, {"--keep-daily", r.Daily}, {"--keep-weekly", r.Weekly}, {"--keep-monthly", r.Monthly}} {
		if k.n > 0 {
			args = append(args, k.flag, strconv.Itoa(k.n))
		}
	}
	_, err := c.run(ctx, invocation{dest: dest, args: args})
	return err
}

// Check verifies the repository's structure (and, with readData, reads
// every pack back).
func (c *Client) Check(ctx context.Context, dest Destination, readData bool) error {
	args := []string{"check"}
	if readData {
		args = append(args, "--read-data")
	}
	_, err := c.run(ctx, invocation{dest: dest, args: args})
	return err
}
