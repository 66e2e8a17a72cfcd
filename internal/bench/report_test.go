package main

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

// sampleResults are 20 rounds of made-up measurements.
func sampleResults() Results {
	ramp := func(base, step float64) []float64 {
		xs := make([]float64, 20)
		for i := range xs {
			xs[i] = base + step*float64((i*7)%20) // a fixed shuffle of base..base+19*step
		}
		return xs
	}
	return Results{
		Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		Peer: "ctr 1.6.20~ds1 and docker.io 20.10.24+dfsg1 (private dockerd), same registry and image",
		Commands: map[string]string{
			methodEnsure: "rt.Client.Ensure + Start",
			methodCtr:    "ctr run -d --cni",
			methodDocker: "docker run -d",
		},
		Samples: map[string][]float64{
			methodEnsure: ramp(150, 2.5),
			methodCtr:    ramp(140, 2),
			methodDocker: ramp(300, 4.25),
		},
		Phases: map[string][]float64{
			"ensure":     ramp(12, 0.5),
			"cni_attach": ramp(40, 1),
			"first_http": ramp(1, 0.1),
		},
		PhaseOrder: phaseNames(),
		Machine: Machine{
			Cores: 2, CPU: "AMD EPYC", Kernel: "6.1.0-18-amd64", Cgroup: "v2",
			Containerd: "1.6.20~ds1", Ctr: "1.6.20~ds1", Docker: "20.10.24+dfsg1", Go: "go1.26.6",
		},
	}
}

func TestReportGolden(t *testing.T) {
	r, err := newReport(sampleResults())
	if err != nil {
		t.Fatalf("newReport: %v", err)
	}
	var js, table bytes.Buffer
	if err := writeJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if err := writeTable(&table, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "runtime.json.golden", js.Bytes())
	golden(t, "runtime.table.golden", table.Bytes())
}

func TestReportTargets(t *testing.T) {
	tests := []struct {
		name                string
		ensure, ctr, docker float64
		wantCtr, wantDocker bool
		wantPass            bool
	}{
		{"both met", 100, 100, 200, true, true, true},
		{"at the limits", 130, 100, 216.7, true, true, true},
		{"slower than ctr allows", 131, 100, 1000, false, true, false},
		{"slower than docker allows", 100, 100, 150, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleResults()
			res.Samples = map[string][]float64{
				methodEnsure: repeat(tt.ensure, 20),
				methodCtr:    repeat(tt.ctr, 20),
				methodDocker: repeat(tt.docker, 20),
			}
			r, err := newReport(res)
			if err != nil {
				t.Fatalf("newReport: %v", err)
			}
			got := []bool{r.Targets[0].Pass, r.Targets[1].Pass, r.Pass}
			want := []bool{tt.wantCtr, tt.wantDocker, tt.wantPass}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("vs ctr, vs docker, overall (-want +got):\n%s (ratios %v, %v)", diff, r.RatioVsCtr, r.RatioVsDocker)
			}
		})
	}
}

func repeat(x float64, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = x
	}
	return xs
}

func TestReportRefusesMissingPeers(t *testing.T) {
	tests := []struct {
		name    string
		tweak   func(*Results)
		wantErr string
	}{
		{"docker did not run", func(r *Results) { delete(r.Samples, methodDocker) }, "method docker has no samples"},
		{"ctr has fewer rounds", func(r *Results) { r.Samples[methodCtr] = r.Samples[methodCtr][:19] }, "method ctr has 19 samples, want 20"},
		{"zero times", func(r *Results) { r.Samples[methodCtr] = repeat(0, 20) }, "method ctr: median 0 ms is not positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleResults()
			tt.tweak(&res)
			_, err := newReport(res)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCtrConfListGolden(t *testing.T) {
	got, err := ctrConfList(netip.MustParsePrefix("10.234.0.0/24"), "/tmp/hbench-1/ctr/ipam")
	if err != nil {
		t.Fatalf("ctrConfList: %v", err)
	}
	golden(t, "ctr.conflist.golden", append(got, '\n'))
}
