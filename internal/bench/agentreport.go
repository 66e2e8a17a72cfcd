package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// agentSizes are the numbers of apps the agent benchmark measures with
// (issue 3, acceptance 5), smallest first; the last is the one the targets
// and the memory reading are for.
var agentSizes = []int{1, 10, 50}

// Targets of the agent benchmark: at the largest size, the median time to
// every app healthy and hearthd's resident memory when idle.
const (
	targetReconcileMS = 2000.0
	targetRSSMB       = 40.0
)

// agentPeer says why agent.json has no peer.
const agentPeer = "none named by the issue; targets only"

// AgentResults are the raw measurements of one run of the agent benchmark.
type AgentResults struct {
	Time time.Time
	// Method describes what was measured and how.
	Method string
	// Healthy are, by number of apps, the times from hearthd's exec to the
	// API answer that reported every app "healthy", in milliseconds, one per
	// start; Ready the times to the line hearthd prints once its first
	// reconcile pass has run.
	Healthy, Ready map[int][]float64
	// Seed is, by number of apps, how long the start that created the apps
	// added for that size took until every app was healthy (not a target).
	Seed map[int]float64
	// RSS are VmRSS readings in MiB with the largest number of apps, taken
	// after Idle; PeakRSS (VmHWM), AnonRSS (RssAnon: heap and stacks) and
	// FileRSS (RssFile: the binary's pages) are from the last reading.
	RSS                       []float64
	PeakRSS, AnonRSS, FileRSS float64
	Idle                      time.Duration
	Machine                   Machine
}

// AgentReport is .bench/agent.json.
type AgentReport struct {
	Bench string    `json:"bench"`
	Time  time.Time `json:"time"`
	Peer  string    `json:"peer"`
	Runs  int       `json:"runs"`

	ReconcileN1  float64 `json:"reconcile_ms_n1"`
	ReconcileN10 float64 `json:"reconcile_ms_n10"`
	ReconcileN50 float64 `json:"reconcile_ms_n50"`
	RSSN50       float64 `json:"rss_mb_n50"`

	Targets []Target `json:"targets"`
	Pass    bool     `json:"pass"`

	Method  string       `json:"method"`
	Sizes   []SizeReport `json:"sizes"`
	Memory  MemoryReport `json:"memory_n50"`
	Machine Machine      `json:"machine"`
}

// SizeReport is the spread of the starts with one number of apps.
type SizeReport struct {
	Apps             int       `json:"apps"`
	Reconcile        Summary   `json:"reconcile"`
	ReconcileSamples []float64 `json:"reconcile_samples_ms"`
	// Ready is the time to hearthd's first reconcile pass (its ready line).
	Ready        Summary   `json:"ready"`
	ReadySamples []float64 `json:"ready_samples_ms"`
	// SeedMS is the start that created this size's new apps.
	SeedMS float64 `json:"seed_ms,omitempty"`
}

// MemoryReport is hearthd's memory with the largest number of apps, in MiB.
type MemoryReport struct {
	IdleSeconds float64   `json:"idle_s"`
	ReadingsMB  []float64 `json:"rss_readings_mb"`
	// PeakMB is VmHWM; AnonMB (heap, stacks) and FileMB (the binary's
	// pages) split the last reading.
	PeakMB float64 `json:"peak_mb"`
	AnonMB float64 `json:"anon_mb"`
	FileMB float64 `json:"file_mb"`
}

// newAgentReport computes the report of res. Every size must have the same
// number of samples, at least one, with a positive median, and there must
// be memory readings: a part that did not run is an error, never a zero.
func newAgentReport(res AgentResults) (AgentReport, error) {
	r := AgentReport{Bench: "agent", Time: res.Time.UTC(), Peer: agentPeer, Method: res.Method, Machine: res.Machine}
	medians := map[int]float64{}
	for _, n := range agentSizes {
		xs, ready := res.Healthy[n], res.Ready[n]
		if len(xs) == 0 {
			return AgentReport{}, fmt.Errorf("report: %d apps: no samples", n)
		}
		if r.Runs == 0 {
			r.Runs = len(xs)
		} else if len(xs) != r.Runs {
			return AgentReport{}, fmt.Errorf("report: %d apps: %d samples, want %d", n, len(xs), r.Runs)
		}
		if len(ready) != len(xs) {
			return AgentReport{}, fmt.Errorf("report: %d apps: %d ready times for %d samples", n, len(ready), len(xs))
		}
		s, err := summarize(xs)
		if err != nil {
			return AgentReport{}, fmt.Errorf("report: %d apps: %w", n, err)
		}
		if s.Median <= 0 {
			return AgentReport{}, fmt.Errorf("report: %d apps: median %v ms is not positive", n, s.Median)
		}
		rs, err := summarize(ready)
		if err != nil {
			return AgentReport{}, fmt.Errorf("report: %d apps: ready: %w", n, err)
		}
		s, rs = roundSummary(s), roundSummary(rs)
		medians[n] = s.Median
		r.Sizes = append(r.Sizes, SizeReport{
			Apps: n, Reconcile: s, ReconcileSamples: roundAll(xs, 1),
			Ready: rs, ReadySamples: roundAll(ready, 1), SeedMS: round(res.Seed[n], 1),
		})
	}
	if len(res.RSS) == 0 {
		return AgentReport{}, fmt.Errorf("report: no memory readings")
	}
	rss, err := percentile(res.RSS, 50)
	if err != nil {
		return AgentReport{}, fmt.Errorf("report: memory: %w", err)
	}
	if rss <= 0 {
		return AgentReport{}, fmt.Errorf("report: memory: median %v MB is not positive", rss)
	}
	r.ReconcileN1, r.ReconcileN10, r.ReconcileN50 = medians[1], medians[10], medians[50]
	r.RSSN50 = round(rss, 1)
	r.Memory = MemoryReport{IdleSeconds: round(res.Idle.Seconds(), 1), ReadingsMB: roundAll(res.RSS, 1),
		PeakMB: round(res.PeakRSS, 1), AnonMB: round(res.AnonRSS, 1), FileMB: round(res.FileRSS, 1)}
	r.Targets = []Target{
		{Name: "reconcile_ms_n50", Value: r.ReconcileN50, Max: targetReconcileMS, Pass: r.ReconcileN50 <= targetReconcileMS},
		{Name: "rss_mb_n50", Value: r.RSSN50, Max: targetRSSMB, Pass: r.RSSN50 <= targetRSSMB},
	}
	r.Pass = r.Targets[0].Pass && r.Targets[1].Pass
	return r, nil
}

func roundAll(xs []float64, decimals int) []float64 {
	out := slices.Clone(xs)
	for i, x := range out {
		out[i] = round(x, decimals)
	}
	return out
}

// writeAgentTable prints r for people.
func writeAgentTable(w io.Writer, r AgentReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "agent benchmark: start hearthd with N apps already running, until its API reports every app healthy (%d starts per N)\n\n", r.Runs)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "apps\tp10 ms\tmedian ms\tp90 ms\tmin ms\tmax ms\t\tready median ms\tcreated in ms\t")
	for _, s := range r.Sizes {
		seed := "-"
		if s.SeedMS > 0 {
			seed = fmt.Sprintf("%.1f", s.SeedMS)
		}
		c := s.Reconcile
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\t%.1f\t%s\t\n", s.Apps, c.P10, c.Median, c.P90, c.Min, c.Max, s.Ready.Median, seed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	mem := r.Memory
	fmt.Fprintf(&b, "\nhearthd memory with %d apps, idle %.0f s: VmRSS median %.1f MB of %d readings (last: %.1f MB anonymous, %.1f MB file-backed), peak %.1f MB\n\n",
		agentSizes[len(agentSizes)-1], mem.IdleSeconds, r.RSSN50, len(mem.ReadingsMB), mem.AnonMB, mem.FileMB, mem.PeakMB)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tvalue\tlimit\tresult\t")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t%.1f\t<= %.0f\t%s\t\n", t.Name, t.Value, t.Max, passFail(t.Pass))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	m := r.Machine
	fmt.Fprintf(&b, "\nmachine: %d cores, kernel %s, cgroup %s, containerd %s, %s\n", m.Cores, m.Kernel, m.Cgroup, m.Containerd, m.Go)
	if m.CPU != "" {
		fmt.Fprintf(&b, "cpu: %s\n", m.CPU)
	}
	fmt.Fprintf(&b, "method: %s\npeer: %s\nresult: %s\n", r.Method, r.Peer, passFail(r.Pass))
	_, err := io.WriteString(w, b.String())
	return err
}
