package reach

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/hearthbox/hearth/ddns/provider/rfc2136/rfc2136test"
)

func TestCheck(t *testing.T) {
	dnsSrv := rfc2136test.Start(t, rfc2136test.Config{Zone: "box.test.", KeyName: "k.", Secret: "c2VjcmV0"})
	dnsSrv.Add(t, "home.box.test. 60 IN A 198.51.100.7", "home.box.test. 60 IN AAAA 2001:db8::7")
	var asked []string
	checker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RawQuery)
		switch r.URL.Query().Get("host") {
		case "home.box.test":
			_ = json.NewEncoder(w).Encode(map[string]any{"reachable": true})
		case "other.box.test":
			_ = json.NewEncoder(w).Encode(map[string]any{"reachable": false, "error": "timeout"})
		default:
			http.Error(w, "no", http.StatusTeapot)
		}
	}))
	t.Cleanup(checker.Close)

	tests := []struct {
		name      string
		checker   string
		host      string
		public    []string
		resolves  bool
		port      string
		problems  int
		inProblem string
	}{
		{name: "resolves, no checker", host: "home.box.test", public: []string{"198.51.100.7", "2001:db8::7"}, resolves: true, port: PortUnchecked},
		{name: "resolves, 443 open", checker: checker.URL, host: "home.box.test.", public: []string{"198.51.100.7"}, resolves: true, port: PortOpen},
		{name: "points elsewhere", host: "home.box.test", public: []string{"198.51.100.8"}, port: PortUnchecked, problems: 1, inProblem: "does not point at 198.51.100.8"},
		{name: "no such name, 443 closed", checker: checker.URL, host: "other.box.test", public: []string{"198.51.100.7"}, port: PortClosed, problems: 2, inProblem: "could not be looked up"},
		{name: "checker broken", checker: checker.URL, host: "teapot.box.test", public: []string{"198.51.100.7"}, port: PortError, problems: 2, inProblem: "418"},
		{name: "public address unknown", host: "home.box.test", port: PortUnchecked, problems: 1, inProblem: "not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{Resolver: dnsSrv.Addr, CheckerURL: tt.checker})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			var pub []netip.Addr
			for _, p := range tt.public {
				pub = append(pub, netip.MustParseAddr(p))
			}
			r, err := c.Check(t.Context(), tt.host, pub...)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if r.Resolves != tt.resolves || r.Port443 != tt.port || len(r.Problems) != tt.problems {
				t.Errorf("got resolves %v port %s problems %q, want %v %s and %d problems", r.Resolves, r.Port443, r.Problems, tt.resolves, tt.port, tt.problems)
			}
			if tt.inProblem != "" && !strings.Contains(strings.Join(r.Problems, " "), tt.inProblem) {
				t.Errorf("got problems %q, want one saying %q", r.Problems, tt.inProblem)
			}
		})
	}
	if len(asked) == 0 || asked[0] != "host=home.box.test&port=443" {
		t.Errorf("got checker queries %v, want host=home.box.test&port=443 first", asked)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"resolver without port", Config{Resolver: "9.9.9.9"}, "resolver"},
		{"checker over http", Config{CheckerURL: "http://check.example/"}, "checker_url"},
		{"checker with query", Config{CheckerURL: "https://check.example/?a=b"}, "checker_url"},
		{"negative timeout", Config{Timeout: -1}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got %v, want %v naming %s", err, ErrInvalidConfig, tt.field)
			}
		})
	}
	c, _ := New(Config{})
	if _, err := c.Check(t.Context(), "bad name..", netip.Addr{}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("got %v, want %v", err, ErrInvalidName)
	}
}
