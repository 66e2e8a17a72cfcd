package desec

import (
	"errors"
	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
	"strings"
	"testing"
)

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
			got, err := dnsname.Relative(tt.in, "example.com")
			if (err != nil) != tt.wantErr {
				t.Fatalf("dnsname.Relative(%q): got error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("dnsname.Relative(%q): got error %v, want ErrInvalid", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("dnsname.Relative(%q): got %q, want %q", tt.in, got, tt.want)
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
