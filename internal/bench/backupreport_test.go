package main

import (
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent/backup"
)

func TestBackupReportRatios(t *testing.T) {
	for _, tc := range []struct {
		name               string
		hFull, rFull       []float64
		hInc, rInc         []float64
		wantFull, wantIncr float64
		wantPass           bool
	}{
		{"equal", []float64{100, 100, 100}, []float64{100, 100, 100}, []float64{10, 10, 10}, []float64{10, 10, 10}, 1, 1, true},
		// One disturbed run does not decide: the median of the pairs does.
		{"one noisy run", []float64{100, 300, 100}, []float64{100, 100, 105}, []float64{10, 10, 10}, []float64{10, 10, 10}, 1, 1, true},
		{"incremental slower", []float64{100}, []float64{100}, []float64{12}, []float64{10}, 1, 1.2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newBackupReport(BackupResults{Time: time.Unix(0, 0), Data: newBackupData(1 << 20),
				HearthFull: tc.hFull, ResticFull: tc.rFull, HearthIncremental: tc.hInc, ResticIncr: tc.rInc})
			if err != nil {
				t.Fatal(err)
			}
			if r.FullRatio != tc.wantFull || r.IncrementalRatio != tc.wantIncr || r.Pass != tc.wantPass {
				t.Errorf("got full %v, incremental %v, pass %v; want %v, %v, %v", r.FullRatio, r.IncrementalRatio, r.Pass, tc.wantFull, tc.wantIncr, tc.wantPass)
			}
		})
	}
}

func TestBackupDataIsDeterministic(t *testing.T) {
	d := newBackupData(4 << 20)
	dir1, dir2 := t.TempDir(), t.TempDir()
	for _, i := range []int{0, d.Small, d.Files() - 1} {
		if _, err := d.write(dir1, i, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := d.write(dir2, i, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := len(d.changed()), (d.Files()+99)/100; got != want {
		t.Errorf("got %d changed files, want %d (1%%)", got, want)
	}
	h1, h2 := hashDir(t, dir1), hashDir(t, dir2)
	if h1 != h2 {
		t.Errorf("two writes of the same files differ: %s, %s", h1, h2)
	}
}

func hashDir(t *testing.T, dir string) string {
	t.Helper()
	h, err := backup.TreeHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
