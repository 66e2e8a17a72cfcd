package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// appConfig is what run reads from the build and the environment.
type appConfig struct {
	Version     string
	BuiltBroken bool
	DataDir     string
	StoreURL    string
	Stdout      io.Writer
	Stderr      io.Writer
}

// app holds the web app's run-time state.
type app struct {
	cfg    appConfig
	client *http.Client
	// exit carries the code asked for by /exit to appkit.Serve.
	exit chan int
	// broken is set by POST /break and cleared by POST /heal.
	broken atomic.Bool

	// outMu serialises writes to Stdout and Stderr so lines never interleave.
	outMu sync.Mutex

	// heldMu guards held, the memory /alloc keeps alive.
	heldMu sync.Mutex
	held   [][]byte
}

func newApp(cfg appConfig) *app {
	return &app{
		cfg:    cfg,
		client: &http.Client{Timeout: 5 * time.Second},
		exit:   make(chan int, 1),
	}
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.handleInfo)
	mux.HandleFunc("GET /healthz", a.handleHealth)
	mux.HandleFunc("POST /break", a.handleBreak)
	mux.HandleFunc("POST /heal", a.handleHeal)
	mux.HandleFunc("GET /write", a.handleWrite)
	mux.HandleFunc("GET /read", a.handleRead)
	mux.HandleFunc("GET /proc", a.handleProc)
	mux.HandleFunc("GET /alloc", a.handleAlloc)
	mux.HandleFunc("GET /burn", a.handleBurn)
	mux.HandleFunc("GET /dial", a.handleDial)
	mux.HandleFunc("GET /resolve", a.handleResolve)
	mux.HandleFunc("GET /peer", a.handlePeer)
	mux.HandleFunc("GET /log", a.handleLog)
	mux.HandleFunc("GET /exit", a.handleExit)
	return mux
}

// Info is the JSON answer of GET /.
type Info struct {
	App         string            `json:"app"`
	Version     string            `json:"version"`
	BuiltBroken bool              `json:"builtBroken"`
	Hostname    string            `json:"hostname"`
	PID         int               `json:"pid"`
	UID         int               `json:"uid"`
	GID         int               `json:"gid"`
	Groups      []int             `json:"groups"`
	Env         map[string]string `json:"env"`
	DataDir     string            `json:"dataDir"`
	DataFiles   []string          `json:"dataFiles"`
	DataError   string            `json:"dataError,omitempty"`
}

func (a *app) handleInfo(w http.ResponseWriter, _ *http.Request) {
	info := Info{
		App:         "web",
		Version:     a.cfg.Version,
		BuiltBroken: a.cfg.BuiltBroken,
		PID:         os.Getpid(),
		UID:         os.Getuid(),
		GID:         os.Getgid(),
		Env:         map[string]string{},
		DataDir:     a.cfg.DataDir,
		DataFiles:   []string{},
	}
	var err error
	if info.Hostname, err = os.Hostname(); err != nil {
		fail(w, fmt.Errorf("hostname: %w", err))
		return
	}
	if info.Groups, err = os.Getgroups(); err != nil {
		fail(w, fmt.Errorf("groups: %w", err))
		return
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		info.Env[k] = v
	}
	entries, err := os.ReadDir(a.cfg.DataDir)
	if err != nil {
		info.DataError = err.Error()
	}
	for _, e := range entries {
		info.DataFiles = append(info.DataFiles, e.Name())
	}
	sort.Strings(info.DataFiles)
	writeJSON(w, info)
}

func (a *app) handleHealth(w http.ResponseWriter, _ *http.Request) {
	switch {
	case a.cfg.BuiltBroken:
		http.Error(w, "unhealthy: built broken", http.StatusInternalServerError)
	case a.broken.Load():
		http.Error(w, "unhealthy: broken at run time", http.StatusInternalServerError)
	default:
		ok(w)
	}
}

func (a *app) handleBreak(w http.ResponseWriter, _ *http.Request) {
	a.broken.Store(true)
	ok(w)
}

func (a *app) handleHeal(w http.ResponseWriter, _ *http.Request) {
	a.broken.Store(false)
	ok(w)
}

// maxRead bounds what /read answers.
const maxRead = 1 << 20

func (a *app) handleWrite(w http.ResponseWriter, r *http.Request) {
	path, err := absPath(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	data := "written by the hearth web sample app\n"
	if r.URL.Query().Has("data") {
		data = r.URL.Query().Get("data")
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		fail(w, err)
		return
	}
	ok(w)
}

func (a *app) handleRead(w http.ResponseWriter, r *http.Request) {
	path, err := absPath(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		fail(w, err)
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRead))
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(b)
}

// isProcFile reports whether /proc may answer /proc/self/name.
func isProcFile(name string) bool {
	switch name {
	case "status", "cgroup", "mountinfo", "limits", "uid_map", "gid_map", "oom_score_adj":
		return true
	}
	return false
}

func (a *app) handleProc(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("file")
	if !isProcFile(name) {
		badRequest(w, fmt.Errorf("parameter file %q: want one of status, cgroup, mountinfo, limits, uid_map, gid_map, oom_score_adj", name))
		return
	}
	b, err := os.ReadFile(filepath.Join("/proc/self", name))
	if err != nil {
		fail(w, err)
		return
	}
	text(w, string(b))
}

// absPath returns the query parameter path, which must be absolute.
func absPath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" || !filepath.IsAbs(p) {
		return "", fmt.Errorf("parameter path %q: want an absolute path", p)
	}
	return filepath.Clean(p), nil
}

// intParam reads the integer query parameter name, def when absent, and
// checks it is within [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("parameter %s %q: want an integer from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

func text(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s)
}

func ok(w http.ResponseWriter) { text(w, "ok") }

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func badRequest(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusBadRequest)
}
