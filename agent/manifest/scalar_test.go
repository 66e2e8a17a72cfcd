package manifest

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"0", 0, ""},
		{"1048576", 1 << 20, ""},
		{"512Ki", 512 << 10, ""},
		{"256Mi", 256 << 20, ""},
		{"1Gi", 1 << 30, ""},
		{"2Ti", 2 << 40, ""},
		{"8388607Ti", 8388607 << 40, ""},
		{"8388608Ti", 0, "too large"},
		{"9223372036854775808", 0, "too large"},
		{"", 0, "want digits"},
		{"Mi", 0, "want digits"},
		{"1.5Gi", 0, "no signs, spaces or decimals"},
		{"-1Mi", 0, "no signs, spaces or decimals"},
		{"+1", 0, "no signs, spaces or decimals"},
		{" 1Mi", 0, "no signs, spaces or decimals"},
		{"1 Mi", 0, "no signs, spaces or decimals"},
		{"01Mi", 0, "leading zero"},
		{"1M", 0, `unit "M"`},
		{"1MB", 0, `unit "MB"`},
		{"1G", 0, `unit "G"`},
		{"1Pi", 0, `unit "Pi"`},
		{"1mi", 0, "want digits"},
		{"1MiB", 0, `unit "MiB"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			switch {
			case tc.wantErr == "" && (err != nil || got != tc.want):
				t.Errorf("got %d, %v; want %d", got, err, tc.want)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %d, %v; want an error containing %q", got, err, tc.wantErr)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{{0, "0"}, {1000, "1000"}, {1024, "1Ki"}, {1536 << 20, "1536Mi"}, {3 << 30, "3Gi"}, {5 << 40, "5Ti"}, {1<<20 + 1, "1048577"}} {
		t.Run(tc.want, func(t *testing.T) {
			if got := FormatSize(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if back, err := ParseSize(tc.want); err != nil || back != tc.in {
				t.Errorf("ParseSize(%q): got %d, %v; want %d", tc.want, back, err, tc.in)
			}
		})
	}
}
