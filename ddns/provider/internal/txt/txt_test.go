package txt

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
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
			got := Quote(tt.text)
			if got != tt.want {
				t.Errorf("Quote(%q): got %q, want %q", tt.text, got, tt.want)
			}
			back, err := Unquote(got)
			if err != nil || back != tt.text {
				t.Errorf("Unquote(%q): got %q, %v, want %q", got, back, err, tt.text)
			}
		})
	}
}
func TestUnQuote(t *testing.T) {
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
			got, err := Unquote(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unquote(%q): got error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Unquote(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
