package desec

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestQuoteTXT(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name, text, want string
	}{
		{"plain", "token-123", `"token-123"`},
		{"empty", "", `""`},
		{"quote and backslash", `a "b" \c`, `"a \"b\" \\c"`},
		{"control and non-ASCII bytes", "tab\there é", `"tab\009here \195\169"`},
		{"split at 255 bytes", long, `"` + long[:255] + `" "` + long[255:] + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := quoteTXT(tt.text)
			if got != tt.want {
				t.Errorf("quoteTXT(%q): got %q, want %q", tt.text, got, tt.want)
			}
			back, err := unquoteTXT(got)
			if err != nil || back != tt.text {
				t.Errorf("unquoteTXT(%q): got %q, %v, want %q", got, back, err, tt.text)
			}
		})
	}
}

func TestUnquoteTXT(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "several strings", in: `"ab" "cd"`, want: "abcd"},
		{name: "unquoted", in: `v=spf1 -all`, want: "v=spf1-all"},
		{name: "escaped quote", in: `"\"x\""`, want: `"x"`},
		{name: "unterminated", in: `"abc`, wantErr: true},
		{name: "short escape", in: `"\12"`, wantErr: true},
		{name: "escape out of range", in: `"\999"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unquoteTXT(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("unquoteTXT(%q): got error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("unquoteTXT(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRelativeName(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "apex", in: "@", want: "@"},
		{name: "relative", in: "WWW", want: "www"},
		{name: "wildcard", in: "*.apps", want: "*.apps"},
		{name: "fully qualified", in: "_acme-challenge.example.com.", want: "_acme-challenge"},
		{name: "fully qualified apex", in: "example.com.", want: "@"},
		{name: "outside the zone", in: "example.net.", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "empty label", in: "a..b", wantErr: true},
		{name: "inner wildcard", in: "a.*", wantErr: true},
		{name: "space", in: "a b", wantErr: true},
		{name: "label too long", in: strings.Repeat("x", 64), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := relativeName(tt.in, "example.com")
			if (err != nil) != tt.wantErr {
				t.Fatalf("relativeName(%q): got error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("relativeName(%q): got error %v, want ErrInvalid", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("relativeName(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNextCursor(t *testing.T) {
	tests := []struct {
		name   string
		links  []string
		want   string
		wantOK bool
	}{
		{name: "none"},
		{name: "first only", links: []string{`<https://desec.io/api/v1/domains/x/rrsets/?cursor=>; rel="first"`}},
		{
			name:   "first, prev and next",
			links:  []string{`<https://desec.io/api/v1/domains/x/rrsets/?cursor=>; rel="first", <https://desec.io/api/v1/domains/x/rrsets/?cursor=p1>; rel="prev", <https://desec.io/api/v1/domains/x/rrsets/?cursor=n2>; rel="next"`},
			want:   "n2",
			wantOK: true,
		},
		{
			name:   "next on another host gives only its cursor",
			links:  []string{`<https://evil.example/steal?cursor=c3>; rel=next`},
			want:   "c3",
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := nextCursor(tt.links)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("nextCursor(%q): got %q, %v, want %q, %v", tt.links, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"absent", "", -1},
		{"seconds", "7", 7 * time.Second},
		{"date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"date in the past", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"garbage", "soon", -1},
		{"negative", "-3", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter(%q): got %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}
