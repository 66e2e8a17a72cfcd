package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// stuckWatch sends the sample's progress and then holds the channel open,
// so a stream that ends proves the server stopped after Done.
type stuckWatch struct{ *apitest.Fake }

func (s stuckWatch) WatchOperation(ctx context.Context, id string) (<-chan api.Progress, error) {
	ch := make(chan api.Progress, len(s.Progress))
	for _, p := range s.Progress {
		ch <- p
	}
	return ch, nil
}

// TestOperationEvents checks the SSE stream of an operation: one data line
// per Progress, ending after the event with Done set.
func TestOperationEvents(t *testing.T) {
	f := apitest.Sample()
	sock := server(t, stuckWatch{f})

	a := raw(t, sock, "GET", "/v1/operations/op-10/events", "", "")
	var want strings.Builder
	for _, p := range f.Progress {
		b, _ := json.Marshal(p)
		fmt.Fprintf(&want, "data: %s\n\n", b)
	}
	if a.status != 200 || a.ctype != "text/event-stream" {
		t.Errorf("got %d %q, want 200 text/event-stream", a.status, a.ctype)
	}
	if diff := cmp.Diff(want.String(), a.body); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, err := client(t, sock).WatchOperation(ctx, "op-10")
	if err != nil {
		t.Fatal(err)
	}
	var got []api.Progress
	for p := range ch {
		got = append(got, p)
	}
	if diff := cmp.Diff(f.Progress, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if ctx.Err() != nil {
		t.Errorf("the stream ended with the test's deadline, want it to end after Done")
	}
}

// TestWatchErrors checks that an unknown operation is a 404 before any
// event, through the Client too.
func TestWatchErrors(t *testing.T) {
	sock := server(t, apitest.Sample())
	a := raw(t, sock, "GET", "/v1/operations/op-404/events", "", "")
	if a.status != 404 || a.ctype != "application/json" {
		t.Errorf("got %d %q, want 404 application/json", a.status, a.ctype)
	}
	_, err := client(t, sock).WatchOperation(context.Background(), "op-404")
	if !errors.Is(err, api.ErrNotFound) {
		t.Errorf("got %v, want an error matching ErrNotFound", err)
	}
}

// TestLogs checks the log stream: options reach the service, lines come
// back in order, errors before the first line are plain answers and after
// it an "error" event, both matching the sentinel at the client.
func TestLogs(t *testing.T) {
	f := apitest.Sample()
	sock := server(t, f)
	c := client(t, sock)
	collect := func(ctx context.Context, app string, opts api.LogOptions) ([]api.LogLine, error) {
		var got []api.LogLine
		err := c.Logs(ctx, app, opts, func(l api.LogLine) error { got = append(got, l); return nil })
		return got, err
	}

	t.Run("all", func(t *testing.T) {
		got, err := collect(context.Background(), "nextcloud", api.LogOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(f.LogLines, got); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
	})
	t.Run("service and tail", func(t *testing.T) {
		got, err := collect(context.Background(), "nextcloud", api.LogOptions{Service: "web", Tail: 1})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(f.LogLines[2:], got); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		calls := f.Calls()
		if got, want := calls[len(calls)-1].Args, []any{"nextcloud", api.LogOptions{Service: "web", Tail: 1}}; !cmp.Equal(got, want) {
			t.Errorf("got args %v, want %v", got, want)
		}
	})
	t.Run("unknown app", func(t *testing.T) {
		a := raw(t, sock, "GET", "/v1/apps/nobody/logs", "", "")
		if a.status != 404 || a.ctype != "application/json" {
			t.Errorf("got %d %q, want 404 application/json", a.status, a.ctype)
		}
		if _, err := collect(context.Background(), "nobody", api.LogOptions{}); !errors.Is(err, api.ErrNotFound) {
			t.Errorf("got %v, want an error matching ErrNotFound", err)
		}
	})
	t.Run("error after lines", func(t *testing.T) {
		f := apitest.Sample()
		f.LogsErr = fmt.Errorf("log file of web: %w", api.ErrUnavailable)
		sock := server(t, f)
		c := client(t, sock)
		a := raw(t, sock, "GET", "/v1/apps/nextcloud/logs", "", "")
		if want := `event: error` + "\n" + `data: {"error":"log file of web: unavailable","code":"unavailable"}`; !strings.Contains(a.body, want) {
			t.Errorf("got body %q, want it to hold %q", a.body, want)
		}
		var got []api.LogLine
		err := c.Logs(context.Background(), "nextcloud", api.LogOptions{}, func(l api.LogLine) error { got = append(got, l); return nil })
		if !errors.Is(err, api.ErrUnavailable) || err.Error() != f.LogsErr.Error() {
			t.Errorf("got %v, want %v", err, f.LogsErr)
		}
		if len(got) != len(f.LogLines) {
			t.Errorf("got %d lines before the error, want %d", len(got), len(f.LogLines))
		}
	})
	t.Run("fn error ends the stream", func(t *testing.T) {
		stop := errors.New("enough")
		n := 0
		err := c.Logs(context.Background(), "nextcloud", api.LogOptions{}, func(api.LogLine) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("got %v after %d lines, want %v after 1", err, n, stop)
		}
	})
}

// TestLogsFollow checks that a followed log delivers lines as they come and
// ends when the client's context ends.
func TestLogsFollow(t *testing.T) {
	f := apitest.Sample()
	f.Follow = make(chan api.LogLine)
	sock := server(t, f)
	c := client(t, sock)

	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan api.LogLine, 10)
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(ctx, "nextcloud", api.LogOptions{Follow: true, Tail: 1}, func(l api.LogLine) error { lines <- l; return nil })
	}()
	recv := func() api.LogLine {
		select {
		case l := <-lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("no line in 10 s")
			return api.LogLine{}
		}
	}
	if got, want := recv(), f.LogLines[2]; !cmp.Equal(got, want) {
		t.Errorf("got %v, want the tail line %v", got, want)
	}
	live := api.LogLine{Time: apitest.T0.Add(time.Minute), Service: "web", Stream: "stdout", Line: "live"}
	f.Follow <- live
	if got := recv(); !cmp.Equal(got, live) {
		t.Errorf("got %v, want %v", got, live)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Logs did not return 10 s after its context ended")
	}
}

// TestServeStopsStreams checks that Serve returns when its context ends,
// even with a followed log open, and the client then sees the end.
func TestServeStopsStreams(t *testing.T) {
	f := apitest.Sample()
	f.Follow = make(chan api.LogLine)
	sock, stop := stoppableServer(t, f)
	c := client(t, sock)
	started := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(context.Background(), "nextcloud", api.LogOptions{Follow: true, Tail: 1}, func(api.LogLine) error {
			started <- struct{}{}
			return nil
		})
	}()
	<-started
	if err := stop(); err != nil {
		t.Errorf("Serve: got %v, want nil", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the client's Logs did not end 10 s after the server stopped")
	}
}
