package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxEvent bounds one server-sent event the client reads.
const maxEvent = 4 << 20

// errStop ends readSSE without an error.
var errStop = errors.New("stop reading")

// WatchOperation implements Service. The channel is closed when the
// operation's last event (Done set) arrived, the stream broke or ctx ended;
// a goroutine reads the stream until then, so read the channel to its end
// or cancel ctx.
func (c *Client) WatchOperation(ctx context.Context, id string) (<-chan Progress, error) {
	path := "/v1/operations/" + url.PathEscape(id) + "/events"
	resp, err := c.send(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	ch := make(chan Progress)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		readSSE(resp.Body, func(event, data string) error {
			if event != "" && event != "message" {
				return nil
			}
			var p Progress
			if err := json.Unmarshal([]byte(data), &p); err != nil {
				return err
			}
			select {
			case ch <- p:
			case <-ctx.Done():
				return ctx.Err()
			}
			if p.Done {
				return errStop
			}
			return nil
		})
	}()
	return ch, nil
}

// Logs implements Service: fn is called with each line until the stream
// ends (at once without Follow), ctx ends or fn returns an error, which
// Logs then returns.
func (c *Client) Logs(ctx context.Context, app string, opts LogOptions, fn func(LogLine) error) error {
	q := url.Values{}
	if opts.Service != "" {
		q.Set("service", opts.Service)
	}
	if opts.Tail > 0 {
		q.Set("tail", strconv.Itoa(opts.Tail))
	}
	if opts.Follow {
		q.Set("follow", "1")
	}
	path := appPath(app) + "/logs"
	resp, err := c.send(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var fnErr error
	err = readSSE(resp.Body, func(event, data string) error {
		switch event {
		case "", "message":
			var l LogLine
			if err := json.Unmarshal([]byte(data), &l); err != nil {
				return fmt.Errorf("GET %s: decode event: %w", path, err)
			}
			if err := fn(l); err != nil {
				fnErr = err
				return errStop
			}
		case "error":
			var er ErrorResponse
			if err := json.Unmarshal([]byte(data), &er); err != nil {
				return fmt.Errorf("GET %s: decode error event: %w", path, err)
			}
			return &Error{Status: http.StatusOK, Code: er.Code, Message: er.Error}
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("GET %s: %w", path, ctx.Err())
	case err != nil:
		return err
	}
	return nil
}

// readSSE calls fn with each event of a text/event-stream until the stream
// ends or fn returns an error (errStop ends it quietly).
func readSSE(r io.Reader, fn func(event, data string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEvent)
	var event string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				if err := fn(event, strings.Join(data, "\n")); err != nil {
					if errors.Is(err, errStop) {
						return nil
					}
					return err
				}
			}
			event, data = "", nil
		case strings.HasPrefix(line, ":"):
			// a comment
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				event = value
			case "data":
				data = append(data, value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read event stream: %w", err)
	}
	return nil
}
