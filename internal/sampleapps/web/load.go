package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Limits on the load endpoints, so a typo cannot wedge a test host.
const (
	maxAllocMB = 4096
	maxBurnMS  = 60_000
	maxLines   = 100_000
	maxLineLen = 64 << 10
	pageSize   = 4096
)

// handleAlloc allocates mb MiB, writes to every page so the memory is really
// charged to the cgroup, and keeps it until the process ends.
func (a *app) handleAlloc(w http.ResponseWriter, r *http.Request) {
	mb, err := intParam(r, "mb", 1, 1, maxAllocMB)
	if err != nil {
		badRequest(w, err)
		return
	}
	b := make([]byte, mb<<20)
	for i := 0; i < len(b); i += pageSize {
		b[i] = 1
	}
	a.heldMu.Lock()
	a.held = append(a.held, b)
	total := 0
	for _, h := range a.held {
		total += len(h) >> 20
	}
	a.heldMu.Unlock()
	text(w, fmt.Sprintf("holding %d MiB\n", total))
}

// handleBurn keeps one CPU busy for ms milliseconds.
func (a *app) handleBurn(w http.ResponseWriter, r *http.Request) {
	ms, err := intParam(r, "ms", 100, 1, maxBurnMS)
	if err != nil {
		badRequest(w, err)
		return
	}
	start := time.Now()
	end := start.Add(time.Duration(ms) * time.Millisecond)
	x := uint64(1)
	for time.Now().Before(end) && r.Context().Err() == nil {
		for i := 0; i < 10_000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	text(w, fmt.Sprintf("burned %d ms (%d)\n", time.Since(start).Milliseconds(), x%10))
}

// handleLog prints lines lines of size bytes each (newline not counted) on
// stdout, then one line on stderr.
func (a *app) handleLog(w http.ResponseWriter, r *http.Request) {
	lines, err := intParam(r, "lines", 1, 0, maxLines)
	if err != nil {
		badRequest(w, err)
		return
	}
	size, err := intParam(r, "size", 80, 1, maxLineLen)
	if err != nil {
		badRequest(w, err)
		return
	}
	var buf strings.Builder
	for i := range lines {
		line := fmt.Sprintf("web log line %d ", i)
		if len(line) >= size {
			line = line[:size]
		} else {
			line += strings.Repeat("x", size-len(line))
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
	}
	a.outMu.Lock()
	_, outErr := fmt.Fprint(a.cfg.Stdout, buf.String())
	_, errErr := fmt.Fprintf(a.cfg.Stderr, "web stderr line after %d lines\n", lines)
	a.outMu.Unlock()
	if outErr != nil {
		fail(w, fmt.Errorf("write stdout: %w", outErr))
		return
	}
	if errErr != nil {
		fail(w, fmt.Errorf("write stderr: %w", errErr))
		return
	}
	ok(w)
}

// handleExit answers, then asks appkit.Serve to stop and exit with code.
func (a *app) handleExit(w http.ResponseWriter, r *http.Request) {
	code, err := intParam(r, "code", 0, 0, 255)
	if err != nil {
		badRequest(w, err)
		return
	}
	text(w, fmt.Sprintf("exiting with code %d\n", code))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case a.exit <- code:
	default: // an exit is already under way
	}
}
