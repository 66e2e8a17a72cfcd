package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Method names: the keys of Results.Samples.
const (
	methodEnsure = "ensure"
	methodCtr    = "ctr"
	methodDocker = "docker"
)

// Targets of the runtime benchmark: the runtime's median divided by each
// peer's may not exceed these.
const (
	targetVsCtr    = 1.3
	targetVsDocker = 0.6
)

// Results are the raw measurements of one run of the runtime benchmark.
type Results struct {
	Time time.Time
	Peer string
	// Commands describe what each method runs, by method name.
	Commands map[string]string
	// Samples are the start-to-first-HTTP-200 times in milliseconds, by
	// method name, one per round.
	Samples map[string][]float64
	// Phases are the runtime's phase times in milliseconds, by phase name,
	// in the order of PhaseOrder.
	Phases     map[string][]float64
	PhaseOrder []string
	Machine    Machine
}

// Machine describes where the benchmark ran.
type Machine struct {
	Cores      int    `json:"cores"`
	CPU        string `json:"cpu,omitempty"`
	Kernel     string `json:"kernel"`
	Cgroup     string `json:"cgroup"`
	Containerd string `json:"containerd_version"`
	Ctr        string `json:"ctr_version,omitempty"`
	Docker     string `json:"docker_version,omitempty"`
	Go         string `json:"go_version"`
}

// Report is .bench/runtime.json.
type Report struct {
	Bench string    `json:"bench"`
	Time  time.Time `json:"time"`
	Peer  string    `json:"peer"`
	Runs  int       `json:"runs"`

	EnsureToHTTP  float64 `json:"ensure_to_http_ms"`
	CtrToHTTP     float64 `json:"ctr_to_http_ms"`
	DockerToHTTP  float64 `json:"docker_to_http_ms"`
	RatioVsCtr    float64 `json:"ratio_vs_ctr"`
	RatioVsDocker float64 `json:"ratio_vs_docker"`

	EnsureP10 float64 `json:"ensure_to_http_p10_ms"`
	EnsureP90 float64 `json:"ensure_to_http_p90_ms"`
	CtrP10    float64 `json:"ctr_to_http_p10_ms"`
	CtrP90    float64 `json:"ctr_to_http_p90_ms"`
	DockerP10 float64 `json:"docker_to_http_p10_ms"`
	DockerP90 float64 `json:"docker_to_http_p90_ms"`

	Targets []Target `json:"targets"`
	Pass    bool     `json:"pass"`

	Methods       []MethodReport `json:"methods"`
	RuntimePhases []PhaseReport  `json:"runtime_phases_ms"`
	Machine       Machine        `json:"machine"`
}

// Target is one ratio limit and whether the run met it.
type Target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Max   float64 `json:"max"`
	Pass  bool    `json:"pass"`
}

// MethodReport is one method's command and spread, with its samples in
// the order they were taken.
type MethodReport struct {
	Name    string    `json:"name"`
	Command string    `json:"command"`
	Summary Summary   `json:"summary"`
	Samples []float64 `json:"samples_ms"`
}

// PhaseReport is the spread of one phase of the runtime's start.
type PhaseReport struct {
	Phase  string  `json:"phase"`
	P10    float64 `json:"p10_ms"`
	Median float64 `json:"median_ms"`
	P90    float64 `json:"p90_ms"`
}

// newReport computes the report of res. Every method must have the same
// number of samples, at least one, and a median above zero: a peer that did
// not run is an error, never a silent zero.
func newReport(res Results) (Report, error) {
	r := Report{Bench: "runtime", Time: res.Time.UTC(), Peer: res.Peer, Machine: res.Machine}
	sums := map[string]Summary{}
	for _, m := range []string{methodEnsure, methodCtr, methodDocker} {
		xs := res.Samples[m]
		if len(xs) == 0 {
			return Report{}, fmt.Errorf("report: method %s has no samples", m)
		}
		if r.Runs == 0 {
			r.Runs = len(xs)
		} else if len(xs) != r.Runs {
			return Report{}, fmt.Errorf("report: method %s has %d samples, want %d", m, len(xs), r.Runs)
		}
		s, err := summarize(xs)
		if err != nil {
			return Report{}, fmt.Errorf("report: method %s: %w", m, err)
		}
		if s.Median <= 0 {
			return Report{}, fmt.Errorf("report: method %s: median %v ms is not positive", m, s.Median)
		}
		s = roundSummary(s)
		sums[m] = s
		samples := make([]float64, len(xs))
		for i, x := range xs {
			samples[i] = round(x, 1)
		}
		r.Methods = append(r.Methods, MethodReport{Name: m, Command: res.Commands[m], Summary: s, Samples: samples})
	}
	e, c, d := sums[methodEnsure], sums[methodCtr], sums[methodDocker]
	r.EnsureToHTTP, r.EnsureP10, r.EnsureP90 = e.Median, e.P10, e.P90
	r.CtrToHTTP, r.CtrP10, r.CtrP90 = c.Median, c.P10, c.P90
	r.DockerToHTTP, r.DockerP10, r.DockerP90 = d.Median, d.P10, d.P90
	r.RatioVsCtr = round(e.Median/c.Median, 3)
	r.RatioVsDocker = round(e.Median/d.Median, 3)
	r.Targets = []Target{
		{Name: "ratio_vs_ctr", Value: r.RatioVsCtr, Max: targetVsCtr, Pass: r.RatioVsCtr <= targetVsCtr},
		{Name: "ratio_vs_docker", Value: r.RatioVsDocker, Max: targetVsDocker, Pass: r.RatioVsDocker <= targetVsDocker},
	}
	r.Pass = r.Targets[0].Pass && r.Targets[1].Pass
	for _, p := range res.PhaseOrder {
		xs := res.Phases[p]
		if len(xs) == 0 {
			continue // not observed (see phaseNames)
		}
		s, err := summarize(xs)
		if err != nil {
			return Report{}, fmt.Errorf("report: phase %s: %w", p, err)
		}
		s = roundSummary(s)
		r.RuntimePhases = append(r.RuntimePhases, PhaseReport{Phase: p, P10: s.P10, Median: s.Median, P90: s.P90})
	}
	return r, nil
}

func roundSummary(s Summary) Summary {
	return Summary{N: s.N, P10: round(s.P10, 1), Median: round(s.Median, 1), P90: round(s.P90, 1), Min: round(s.Min, 1), Max: round(s.Max, 1)}
}

// writeJSON writes r (a Report or an AgentReport) as indented JSON.
func writeJSON(w io.Writer, r any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}

// writeTable prints r for people.
func writeTable(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "runtime benchmark: start a container, then poll its /healthz until HTTP 200 (%d runs per method, interleaved)\n\n", r.Runs)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "method\tp10 ms\tmedian ms\tp90 ms\tmin ms\tmax ms\t\tcommand")
	for _, m := range r.Methods {
		s := m.Summary
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\t%s\n", m.Name, s.P10, s.Median, s.P90, s.Min, s.Max, m.Command)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tvalue\tlimit\tresult\t")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t%.3f\t<= %.2f\t%s\t\n", t.Name, t.Value, t.Max, passFail(t.Pass))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.RuntimePhases) > 0 {
		b.WriteString("\nruntime phases (ms)\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "phase\tp10\tmedian\tp90\t")
		for _, p := range r.RuntimePhases {
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t\n", p.Phase, p.P10, p.Median, p.P90)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	m := r.Machine
	fmt.Fprintf(&b, "\nmachine: %d cores, kernel %s, cgroup %s, containerd %s, ctr %s, docker %s, %s\n",
		m.Cores, m.Kernel, m.Cgroup, m.Containerd, m.Ctr, m.Docker, m.Go)
	if m.CPU != "" {
		fmt.Fprintf(&b, "cpu: %s\n", m.CPU)
	}
	fmt.Fprintf(&b, "peer: %s\nresult: %s\n", r.Peer, passFail(r.Pass))
	_, err := io.WriteString(w, b.String())
	return err
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}
