package boottest

import (
	"errors"
	"io"
	"net"
	"sync"
)

// Relay listens on a unix socket and joins each connection to a TCP
// address: the hearth API client speaks to a socket, and the test image
// forwards its API to a TCP port.
type Relay struct {
	ln net.Listener
	to string
	wg sync.WaitGroup
}

// NewRelay starts relaying from the socket path to the TCP address to.
func NewRelay(path, to string) (*Relay, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	r := &Relay{ln: ln, to: to}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer c.Close()
			up, err := net.Dial("tcp", r.to)
			if err != nil {
				return
			}
			defer up.Close()
			var pipes sync.WaitGroup
			pipes.Add(2)
			join := func(dst, src net.Conn) {
				defer pipes.Done()
				_, _ = io.Copy(dst, src)
				// Half-close so that the other direction ends too.
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			}
			go join(up, c)
			go join(c, up)
			pipes.Wait()
		}()
	}
}

// Close stops listening and waits for the open connections to end.
func (r *Relay) Close() error {
	err := r.ln.Close()
	r.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
