package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// maxValue bounds a stored value.
const maxValue = 1 << 20

// storeConfig is what run reads from the build and the environment.
type storeConfig struct {
	Version     string
	BuiltBroken bool
	KVDir       string
}

// store keeps each key in a file under cfg.KVDir.
type store struct {
	cfg storeConfig
	// mu serialises writes so that incr is atomic.
	mu sync.Mutex
}

func newStore(cfg storeConfig) *store { return &store{cfg: cfg} }

func (s *store) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleInfo)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("PUT /kv/{key}", s.handlePut)
	mux.HandleFunc("GET /kv/{key}", s.handleGet)
	mux.HandleFunc("POST /kv/{key}/incr", s.handleIncr)
	return mux
}

func (s *store) handleInfo(w http.ResponseWriter, _ *http.Request) {
	b, err := json.Marshal(map[string]string{"app": "store", "version": s.cfg.Version})
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

func (s *store) handleHealth(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.BuiltBroken {
		http.Error(w, "unhealthy: built broken", http.StatusInternalServerError)
		return
	}
	text(w, "ok")
}

func (s *store) handlePut(w http.ResponseWriter, r *http.Request) {
	key, err := keyParam(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxValue))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(key, body); err != nil {
		fail(w, err)
		return
	}
	text(w, "ok")
}

func (s *store) handleGet(w http.ResponseWriter, r *http.Request) {
	key, err := keyParam(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	b, err := os.ReadFile(filepath.Join(s.cfg.KVDir, key))
	if errors.Is(err, fs.ErrNotExist) {
		http.Error(w, fmt.Sprintf("no key %q", key), http.StatusNotFound)
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(b)
}

func (s *store) handleIncr(w http.ResponseWriter, r *http.Request) {
	key, err := keyParam(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := int64(0)
	b, err := os.ReadFile(filepath.Join(s.cfg.KVDir, key))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		fail(w, err)
		return
	default:
		if n, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			fail(w, fmt.Errorf("key %q does not hold a number: %w", key, err))
			return
		}
	}
	n++
	if err := s.write(key, []byte(strconv.FormatInt(n, 10))); err != nil {
		fail(w, err)
		return
	}
	text(w, strconv.FormatInt(n, 10)+"\n")
}

// write stores value under key atomically (temporary file, then rename).
// The caller holds s.mu.
func (s *store) write(key string, value []byte) error {
	if err := os.MkdirAll(s.cfg.KVDir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.cfg.KVDir, "."+key+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(value)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.cfg.KVDir, key)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// keyParam returns the path's key, which must match [a-z0-9-]{1,64}.
func keyParam(r *http.Request) (string, error) {
	key := r.PathValue("key")
	valid := len(key) >= 1 && len(key) <= 64
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			valid = false
		}
	}
	if !valid {
		return "", fmt.Errorf("key %q: want 1 to 64 of a-z, 0-9 and -", key)
	}
	return key, nil
}

func text(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s)
}

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func badRequest(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusBadRequest)
}
