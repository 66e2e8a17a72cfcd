package addons

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// queued is one message in the queue: Dir/queue/<time>-<random>.json.
type queued struct {
	App      string    `json:"app"`
	From     string    `json:"from"`
	To       []string  `json:"to"`
	Data     []byte    `json:"data"`
	Queued   time.Time `json:"queued"`
	Attempts int       `json:"attempts,omitempty"`
	Next     time.Time `json:"next,omitzero"`
	LastErr  string    `json:"lastError,omitempty"`
}

// enqueue writes the message (through a temporary file and a rename) and
// wakes the delivery loop; once it returns the message survives a crash.
func (s *Sendmail) enqueue(q queued) error {
	q.Queued = time.Now().UTC()
	name := fmt.Sprintf("%d-%s.json", q.Queued.UnixNano(), strings.ToLower(rand.Text()[:8]))
	if err := s.writeQueued(name, q); err != nil {
		return err
	}
	s.mu.Lock()
	wake := s.wake
	s.mu.Unlock()
	if wake != nil {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	return nil
}

func (s *Sendmail) writeQueued(name string, q queued) error {
	b, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	path := filepath.Join(s.queueDir(), name)
	f, err := os.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(path + ".tmp")
		return fmt.Errorf("queue: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	return nil
}

func (s *Sendmail) readQueued(name string) (queued, error) {
	var q queued
	b, err := os.ReadFile(filepath.Join(s.queueDir(), name))
	if err != nil {
		return q, fmt.Errorf("queue: %w", err)
	}
	if err := json.Unmarshal(b, &q); err != nil {
		return q, fmt.Errorf("queue %s: %w", name, err)
	}
	return q, nil
}

func (s *Sendmail) queueNames() ([]string, error) {
	entries, err := os.ReadDir(s.queueDir())
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// deliverLoop tries the queue at start, when a message comes, and every
// RetryEvery.
func (s *Sendmail) deliverLoop(ctx context.Context, wake <-chan struct{}) {
	tick := time.NewTicker(s.cfg.RetryEvery)
	defer tick.Stop()
	for {
		s.deliverAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
	}
}

// deliverAll sends every message that is due; a failure keeps the message
// with a later Next (1 minute, doubling, at most an hour), and one older
// than MaxAge is given up (logged).
func (s *Sendmail) deliverAll(ctx context.Context) {
	names, err := s.queueNames()
	if err != nil {
		s.log.Error("sendmail: read queue", "err", err)
		return
	}
	relay := s.cfg.Relay()
	now := time.Now()
	for _, n := range names {
		if ctx.Err() != nil {
			return
		}
		q, err := s.readQueued(n)
		if err != nil {
			s.log.Error("sendmail: read queued message", "file", n, "err", err)
			continue
		}
		if now.Sub(q.Queued) > s.cfg.MaxAge {
			s.log.Error("sendmail: giving up a message", "app", q.App, "queued", q.Queued, "lastError", q.LastErr)
			_ = os.Remove(filepath.Join(s.queueDir(), n))
			continue
		}
		if relay.Host == "" || now.Before(q.Next) {
			continue
		}
		err = s.send(ctx, relay, q)
		if err == nil {
			if err := os.Remove(filepath.Join(s.queueDir(), n)); err != nil {
				s.log.Error("sendmail: remove sent message", "file", n, "err", err)
			}
			s.log.Info("sendmail: relayed", "app", q.App, "recipients", len(q.To))
			continue
		}
		q.Attempts++
		q.LastErr = err.Error()
		q.Next = now.Add(min(time.Minute<<min(q.Attempts-1, 6), time.Hour))
		s.log.Warn("sendmail: relay failed, will retry", "app", q.App, "attempt", q.Attempts, "next", q.Next, "err", err)
		if err := s.writeQueued(n, q); err != nil {
			s.log.Error("sendmail: requeue", "file", n, "err", err)
		}
	}
}

// send relays one message: STARTTLS when the relay offers it, PLAIN
// login when it has credentials (Go's client refuses that without TLS
// except to localhost).
func (s *Sendmail) send(ctx context.Context, r Relay, q queued) error {
	addr := net.JoinHostPort(r.Host, strconv.Itoa(int(r.Port)))
	d := net.Dialer{Timeout: s.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Minute))
	c, err := smtp.NewClient(conn, r.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(s.cfg.FromDomain); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: r.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if r.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", r.Username, r.Password, r.Host)); err != nil {
			return err
		}
	}
	if err := c.Mail(q.From); err != nil {
		return err
	}
	for _, to := range q.To {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(q.Data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
