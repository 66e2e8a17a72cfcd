package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
)

// Defaults of Options.
const (
	DefaultIdleTimeout = 7 * 24 * time.Hour  // a session unused this long ends
	DefaultMaxAge      = 30 * 24 * time.Hour // a session ends this long after sign-in, used or not
	// seenEvery is how stale LastSeen may get before Authenticate writes
	// it: not every request is a write.
	seenEvery = time.Minute
	// hashSlots is how many argon2id hashes run at once: each takes
	// Params.Memory, and a 4 GB box must not run out under a burst.
	hashSlots = 2
	tokenLen  = 32 // bytes of a session or setup token
)

// Options are the tunable parts of Service; zero values take the defaults.
type Options struct {
	Params       Params
	IdleTimeout  time.Duration
	MaxAge       time.Duration
	FreeFailures int
	LockBase     time.Duration
	LockMax      time.Duration
}

// Config wires a Service. Store is required.
type Config struct {
	Options
	Store *state.Store
	// BoxName returns the box's name (the strength check refuses it; TOTP
	// labels show it).
	BoxName func() string
	// Activity records an entry of the activity log.
	Activity func(actor, action, outcome, detail string)
	Now      func() time.Time
	Logger   *slog.Logger
}

// Service is api.AccountService over the state store.
type Service struct {
	cfg   Config
	store *state.Store
	log   *slog.Logger
	lock  *lockout
	slots chan struct{} // hashSlots tokens
	// dummy is a hash that verifies nothing: checked for unknown users so
	// that a wrong name costs the same time as a wrong password.
	dummy string
}

var _ api.AccountService = (*Service)(nil)

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("accounts config: Store is required")
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams()
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.FreeFailures <= 0 {
		cfg.FreeFailures = DefaultFreeFailures
	}
	if cfg.LockBase <= 0 {
		cfg.LockBase = DefaultLockBase
	}
	if cfg.LockMax <= 0 {
		cfg.LockMax = DefaultLockMax
	}
	if cfg.BoxName == nil {
		cfg.BoxName = func() string { return "hearth" }
	}
	if cfg.Activity == nil {
		cfg.Activity = func(string, string, string, string) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	dummy, err := HashPassword("no password matches this one", cfg.Params)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, store: cfg.Store, log: cfg.Logger.With("component", "accounts"),
		lock:  newLockout(cfg.FreeFailures, cfg.LockBase, cfg.LockMax),
		slots: make(chan struct{}, hashSlots), dummy: dummy}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Round(0) }

// Hash hashes a password with the configured parameters, waiting for a
// free hashing slot.
func (s *Service) Hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return HashPassword(password, s.cfg.Params)
}

// verify checks a password against a stored hash ("" checks the dummy).
func (s *Service) verify(ctx context.Context, phc, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	if phc == "" {
		_, _ = VerifyPassword(s.dummy, password)
		return false, nil
	}
	return VerifyPassword(phc, password)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) release() { <-s.slots }

// CheckNewPassword applies the strength rules for user, as an error that
// matches api.ErrInvalid and names the rule.
func (s *Service) CheckNewPassword(password, user string) error {
	if err := CheckPassword(password, user, s.cfg.BoxName()); err != nil {
		return fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	return nil
}

// CheckUserName checks a new user's name, naming the field.
func CheckUserName(field, name string) error {
	ok := len(name) >= 1 && len(name) <= 32 && name[0] >= 'a' && name[0] <= 'z'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if !ok {
		return fmt.Errorf("%s %q: must be 1 to 32 of a-z, 0-9, '.', '_' and '-', starting with a letter: %w", field, name, api.ErrInvalid)
	}
	return nil
}

// newToken returns a random token (base64url) and the hex SHA-256 under
// which it is stored.
func newToken() (token, hash string, err error) {
	b := make([]byte, tokenLen)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// NewToken returns a random token and its hash (setup tokens use it too).
func NewToken() (token, hash string, err error) { return newToken() }

// HashToken is the hex SHA-256 a token is stored as.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether token looks like one newToken makes.
func wellFormed(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == tokenLen
}

// NewSession signs user in, in tx: it stores a new session and returns its
// token. Setup's claim calls it in the claim's transaction.
func (s *Service) NewSession(tx *state.Tx, u state.User, userAgent string) (string, api.Session, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", api.Session{}, err
	}
	idb := make([]byte, 16)
	if _, err := rand.Read(idb); err != nil {
		return "", api.Session{}, fmt.Errorf("session id: %w", err)
	}
	now := s.now()
	rec := state.Session{Hash: hash, ID: base64.RawURLEncoding.EncodeToString(idb), User: u.Name, Created: now,
		LastSeen: now, Expires: now.Add(s.cfg.MaxAge), UserAgent: userAgent}
	if err := tx.PutSession(rec); err != nil {
		return "", api.Session{}, err
	}
	return token, s.view(rec, u.Role), nil
}

// view is a session as the API shows it; its idle end may come first.
func (s *Service) view(r state.Session, role string) api.Session {
	exp := r.Expires
	if idle := r.LastSeen.Add(s.cfg.IdleTimeout); idle.Before(exp) {
		exp = idle
	}
	return api.Session{ID: r.ID, User: r.User, Role: role, Created: r.Created, LastSeen: r.LastSeen, Expires: exp, UserAgent: r.UserAgent}
}

// expired reports whether a session has ended at now.
func (s *Service) expired(r state.Session, now time.Time) bool {
	return !now.Before(r.Expires) || !now.Before(r.LastSeen.Add(s.cfg.IdleTimeout))
}

// Reset forgets every user and session, in tx, and every lockout.
func (s *Service) Reset(tx *state.Tx) error {
	if _, err := tx.DeleteSessions("", ""); err != nil {
		return err
	}
	if err := tx.DeleteUsers(); err != nil {
		return err
	}
	s.lock.reset()
	return nil
}

// internal wraps a store error that is nobody's fault.
func internal(what string, err error) error {
	return fmt.Errorf("%s: %w", what, err)
}
