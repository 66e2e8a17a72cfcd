package notify

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMessageGolden(t *testing.T) {
	s := SMTP{Host: "mail.example.net", Security: StartTLS, From: "Hearth <box@example.net>", To: []string{"owner@example.net", "Zoë <zoe@example.org>"}}
	t0 := time.Date(2026, 11, 22, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		n    Notice
	}{
		{"message_backup_failed", Notice{ID: "187a0b0c0d0e0f10", Kind: BackupFailed, App: "photos", Time: t0, Title: "The backup of photos failed",
			Body: "restic: repository is locked by another process.\nHearth tries again in an hour; 'hearth backup ls photos' shows the last good one."}},
		{"message_disk_full", Notice{ID: "187a0b0c0d0e0f11", Kind: DiskFull, Time: t0, Title: "The disk is almost full — ünïcode",
			Body: "Only 812.0 MiB of 29.5 GiB is free on the disk that holds the apps' data (/srv/hearth). A long line that goes past seventy-six characters so that quoted-printable must wrap it softly."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := message(s, tt.n, "hearth", t0.Add(time.Minute))
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}
