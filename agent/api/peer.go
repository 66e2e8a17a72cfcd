package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// peer is who is at the other end of a connection, from SO_PEERCRED (as
// it was when the peer connected).
type peer struct {
	UID  uint32
	PID  int32
	Comm string // the process name, "?" if it was gone
}

// actor is how the activity log names the peer.
func (p peer) actor() string {
	return fmt.Sprintf("uid %d pid %d (%s)", p.UID, p.PID, p.Comm)
}

type peerKey struct{}

// peerResult is what connContext stores: the peer, or why it is unknown.
type peerResult struct {
	p   peer
	err error
}

// connContext records each connection's peer credentials in its context.
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	p, err := peerOf(c, s.procDir)
	return context.WithValue(ctx, peerKey{}, peerResult{p, err})
}

// peerOf reads the peer credentials of a unix connection.
func peerOf(c net.Conn, procDir string) (peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return peer{}, fmt.Errorf("peer credentials: %T is not a unix connection", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return peer{}, fmt.Errorf("peer credentials: %w", credErr)
	}
	p := peer{UID: cred.Uid, PID: cred.Pid, Comm: "?"}
	if b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(int(cred.Pid)), "comm")); err == nil {
		if comm := strings.TrimSpace(string(b)); comm != "" {
			p.Comm = comm
		}
	}
	return p, nil
}

// authorize lets root in and no one else.
func authorize(p peer) error {
	if p.UID != 0 {
		return fmt.Errorf("uid %d: only root may use hearthd's API: %w", p.UID, ErrForbidden)
	}
	return nil
}

// guard answers 403 to a peer that is not root, and records the actor of
// every other request.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, ok := r.Context().Value(peerKey{}).(peerResult)
		if !ok {
			pr.err = errors.New("peer credentials: not a connection of this server")
		}
		if pr.err != nil {
			s.log.Warn("request refused", "err", pr.err)
			s.fail(w, r, fmt.Errorf("%v: %w", pr.err, ErrForbidden))
			return
		}
		if err := authorize(pr.p); err != nil {
			s.log.Warn("request refused", "uid", pr.p.UID, "pid", pr.p.PID, "comm", pr.p.Comm)
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithActor(r.Context(), pr.p.actor())))
	})
}
