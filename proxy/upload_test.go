package proxy

import (
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// patternReader yields left bytes without holding them: the body is made
// as it is read, from one small block.
type patternReader struct {
	left  int64
	block []byte
}

func newPatternReader(n int64) *patternReader {
	r := &patternReader{left: n, block: make([]byte, 64<<10)}
	for i := range r.block {
		r.block[i] = byte(i * 7)
	}
	return r
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.block)
	r.left -= int64(n)
	return n, nil
}

// A 1 GiB upload streams through the proxy to a backend that counts and
// discards it, and the process's heap grows by far less than the body: the
// proxy buffers nothing. The client, the proxy and the backend share the
// process, so the bound covers all three.
func TestStreamedUploadMemoryBounded(t *testing.T) {
	const size = 1 << 30
	const maxGrowth = 64 << 20
	h := startProxy(t, nil)
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
	})
	h.apply(t, route("files", "files.hearth.local", b.url()))
	c := h.client(t, false)

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	})
	req, err := http.NewRequest(http.MethodPost, "https://files.hearth.local/upload", newPatternReader(size))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	resp, err := c.Do(req)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(got) != strconv.Itoa(size) {
		t.Fatalf("backend answered %d %q, want 200 %q", resp.StatusCode, got, strconv.Itoa(size))
	}
	growth := int64(peak) - int64(base.HeapInuse)
	t.Logf("heap in use: %d MiB before, %d MiB at peak", base.HeapInuse>>20, peak>>20)
	if growth > maxGrowth {
		t.Errorf("heap growth during a 1 GiB upload: got %d MiB, want under %d MiB", growth>>20, maxGrowth>>20)
	}
}
