package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// errTooLarge marks a request body over maxBody (413).
var errTooLarge = fmt.Errorf("request body: larger than %d bytes: %w", maxBody, ErrInvalid)

// reply writes v as JSON with status.
func (s *Server) reply(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode answer", "err", err)
		status = http.StatusInternalServerError
		b, _ = json.Marshal(ErrorResponse{Error: "encode answer: " + err.Error(), Code: CodeInternal})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// fail answers with err's code and status.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, status := classify(err)
	if errors.Is(err, errTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if re := (*RetryError)(nil); errors.As(err, &re) {
		w.Header().Set("Retry-After", retryAfter(re))
	}
	s.reply(w, status, ErrorResponse{Error: err.Error(), Code: code})
}

// noRoute answers requests no route matches.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, fmt.Errorf("no route %s %s: %w", r.Method, r.URL.Path, ErrNotFound))
}

// decode reads r's JSON body into dst, refusing query parameters, unknown
// fields, trailing data and bodies over maxBody. An empty body leaves dst as it is when
// optional, and is an error otherwise.
func decode(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	if _, err := query(r); err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return fmt.Errorf("content type %q: must be application/json: %w", ct, ErrInvalid)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		return fmt.Errorf("request body: %v: %w", err, ErrInvalid)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return fmt.Errorf("request body: empty, want a JSON object: %w", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("request body: %s: %w", jsonProblem(err), ErrInvalid)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("request body: data after the JSON object: %w", ErrInvalid)
	}
	return nil
}

// jsonProblem says what is wrong with a body, naming the field.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "(the body)"
		}
		return fmt.Sprintf("%s: must be %s, not %s", field, typeErr.Type, typeErr.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// query returns r's query after refusing parameters not in allowed and
// parameters given twice.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("query: %v: %w", err, ErrInvalid)
	}
	known := "this route takes none"
	if len(allowed) > 0 {
		known = "known: " + strings.Join(allowed, ", ")
	}
	var problems []error
	for k, v := range q {
		switch {
		case !slices.Contains(allowed, k):
			problems = append(problems, fmt.Errorf("query parameter %q: unknown (%s): %w", k, known, ErrInvalid))
		case len(v) > 1:
			problems = append(problems, fmt.Errorf("query parameter %q: given %d times: %w", k, len(v), ErrInvalid))
		}
	}
	return q, errors.Join(problems...)
}

// queryBool parses a boolean parameter; absent is false.
func queryBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	switch v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, fmt.Errorf("query parameter %q: %q is not true, false, 1 or 0: %w", name, v, ErrInvalid)
}

// queryInt parses an integer parameter in [0, max]; absent is 0.
func queryInt(q url.Values, name string, max uint64) (uint64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > max {
		return 0, fmt.Errorf("query parameter %q: %q is not a whole number from 0 to %d: %w", name, v, max, ErrInvalid)
	}
	return n, nil
}

var (
	// appIDPattern is the app id rule of docs/manifest.md.
	appIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)
	// namePattern bounds other ids (catalogs, operations, services).
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// appID returns the {id} path value of an app route, checked.
func appID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !appIDPattern.MatchString(id) {
		return "", fmt.Errorf("app id %q: must be 2 to 32 of a-z, 0-9 and '-', starting with a letter: %w", id, ErrInvalid)
	}
	return id, nil
}

// checkName checks an id that is not an app's; what names it is the field.
func checkName(field, v string) error {
	if !namePattern.MatchString(v) {
		return fmt.Errorf("%s %q: must be 1 to 128 of A-Z, a-z, 0-9, '.', '_' and '-': %w", field, v, ErrInvalid)
	}
	return nil
}
