package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets of the proxy benchmark (issue 4, acceptance 4): Hearth's requests
// per second at least Caddy's and at least 0.8 of nginx's, its p99 latency at
// most 1.2 times Caddy's.
const (
	targetRPSVsCaddy = 1.0
	targetRPSVsNginx = 0.8
	targetP99VsCaddy = 1.2
)

// ProxyResults are the raw measurements of one run of the proxy benchmark.
type ProxyResults struct {
	Time time.Time
	Load ProxyLoad
	// Runs are by proxy name (proxyHearth, proxyCaddy, proxyNginx).
	Runs map[string]ProxyRun
	// WrkVersion is the load generator's own line.
	WrkVersion string
	Machine    ProxyMachine
}

// ProxyRun is one proxy's setup and its measured rounds, in order.
type ProxyRun struct {
	Version string
	Setup   string
	// TLS is what the load generator's OpenSSL negotiates with the proxy
	// (protocol, cipher suite, key exchange group).
	TLS    string
	Rounds []ProxyRound
}

// ProxyRound is one measurement of one proxy: what wrk saw, and what the
// proxy's processes used for it.
type ProxyRound struct {
	WrkResult
	// CPUPerRequestUS is the proxy's CPU time (all its processes, user and
	// system) per request in microseconds; SyscallsPerRequest its read- and
	// write-like system calls per request.
	CPUPerRequestUS    float64 `json:"cpu_us_per_request"`
	SyscallsPerRequest float64 `json:"rw_syscalls_per_request"`
	// BackendCPUPerRequestUS and WrkCPUPerRequestUS are what the backend
	// and the load generator used per request meanwhile: on a machine with
	// few cores they share the CPU with the proxy.
	BackendCPUPerRequestUS float64 `json:"backend_cpu_us_per_request"`
	WrkCPUPerRequestUS     float64 `json:"wrk_cpu_us_per_request"`
}

// ProxyLoad says how the load was made.
type ProxyLoad struct {
	Generator   string  `json:"generator"`
	Command     string  `json:"command"`
	Threads     int     `json:"threads"`
	Connections int     `json:"connections"`
	DurationS   float64 `json:"duration_s"`
	WarmupS     float64 `json:"warmup_s"`
	Rounds      int     `json:"rounds"`
	Order       string  `json:"order"`
	Protocol    string  `json:"protocol"`
	Backend     string  `json:"backend"`
	BodyBytes   int     `json:"body_bytes"`
	AccessLog   bool    `json:"access_log"`
	// Parallelism is how many cores each proxy may use at once, and how
	// each is told; CPUPinning how the processes are placed on cores.
	Parallelism string `json:"parallelism"`
	CPUPinning  string `json:"cpu_pinning"`
}

// ProxyMachine describes where the benchmark ran. The load averages show how
// busy the shared machine was before and after the run.
type ProxyMachine struct {
	Cores         int     `json:"cores"`
	CPU           string  `json:"cpu,omitempty"`
	Kernel        string  `json:"kernel"`
	Cgroup        string  `json:"cgroup"`
	Go            string  `json:"go_version"`
	LoadAvgBefore float64 `json:"loadavg_1m_before"`
	LoadAvgAfter  float64 `json:"loadavg_1m_after"`
}

// ProxyReport is .bench/proxy.json.
type ProxyReport struct {
	Bench string    `json:"bench"`
	Time  time.Time `json:"time"`

	Hearth ProxySummary `json:"hearth"`
	Caddy  ProxySummary `json:"caddy"`
	Nginx  ProxySummary `json:"nginx"`

	RPSRatioVsCaddy float64 `json:"rps_ratio_vs_caddy"`
	RPSRatioVsNginx float64 `json:"rps_ratio_vs_nginx"`
	P99RatioVsCaddy float64 `json:"p99_ratio_vs_caddy"`

	Targets []ProxyTarget `json:"targets"`
	Pass    bool          `json:"pass"`

	Load     ProxyLoad         `json:"load"`
	Versions map[string]string `json:"versions"`
	Machine  ProxyMachine      `json:"machine"`
}

// ProxySummary is one proxy's medians over the rounds, with the rounds.
type ProxySummary struct {
	RPS                float64 `json:"rps"`
	P50                float64 `json:"p50_ms"`
	P99                float64 `json:"p99_ms"`
	CPUPerRequestUS    float64 `json:"cpu_us_per_request"`
	SyscallsPerRequest float64 `json:"rw_syscalls_per_request"`
	// BackendCPUPerRequestUS and WrkCPUPerRequestUS are the medians of the
	// rounds' (see ProxyRound).
	BackendCPUPerRequestUS float64      `json:"backend_cpu_us_per_request"`
	WrkCPUPerRequestUS     float64      `json:"wrk_cpu_us_per_request"`
	SocketErrors           int64        `json:"socket_errors"`
	Setup                  string       `json:"setup"`
	TLS                    string       `json:"tls"`
	Rounds                 []ProxyRound `json:"rounds"`
}

// ProxyTarget is one ratio limit, a floor (">=") or a ceiling ("<="), and
// whether the run met it.
type ProxyTarget struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Op    string  `json:"op"`
	Limit float64 `json:"limit"`
	Pass  bool    `json:"pass"`
}

// newProxyReport computes the report of res. Every proxy must have the
// same number of rounds, at least one, with positive figures and no non-2xx
// answers, and all must have negotiated the same TLS: a proxy that did not
// proxy, or did it with a cheaper cipher, is an error, never a figure.
// Targets are judged on the ratios as reported (rounded to three decimals).
func newProxyReport(res ProxyResults) (ProxyReport, error) {
	r := ProxyReport{Bench: "proxy", Time: res.Time.UTC(), Load: res.Load, Machine: res.Machine,
		Versions: map[string]string{"wrk": res.WrkVersion, "go": res.Machine.Go}}
	sums := map[string]*ProxySummary{proxyHearth: &r.Hearth, proxyCaddy: &r.Caddy, proxyNginx: &r.Nginx}
	rounds := 0
	for _, name := range proxyOrder() {
		run, ok := res.Runs[name]
		if !ok || len(run.Rounds) == 0 {
			return ProxyReport{}, fmt.Errorf("proxy report: %s has no rounds", name)
		}
		if rounds == 0 {
			rounds = len(run.Rounds)
		} else if len(run.Rounds) != rounds {
			return ProxyReport{}, fmt.Errorf("proxy report: %s has %d rounds, want %d", name, len(run.Rounds), rounds)
		}
		if run.TLS != res.Runs[proxyHearth].TLS {
			return ProxyReport{}, fmt.Errorf("proxy report: %s negotiated TLS %q, hearth %q: they must be the same", name, run.TLS, res.Runs[proxyHearth].TLS)
		}
		s, err := summarizeProxy(name, run)
		if err != nil {
			return ProxyReport{}, err
		}
		*sums[name] = s
		r.Versions[name] = run.Version
	}
	r.Load.Rounds = rounds
	r.RPSRatioVsCaddy = round(r.Hearth.RPS/r.Caddy.RPS, 3)
	r.RPSRatioVsNginx = round(r.Hearth.RPS/r.Nginx.RPS, 3)
	r.P99RatioVsCaddy = round(r.Hearth.P99/r.Caddy.P99, 3)
	r.Targets = []ProxyTarget{
		{Name: "rps_ratio_vs_caddy", Value: r.RPSRatioVsCaddy, Op: ">=", Limit: targetRPSVsCaddy, Pass: r.RPSRatioVsCaddy >= targetRPSVsCaddy},
		{Name: "rps_ratio_vs_nginx", Value: r.RPSRatioVsNginx, Op: ">=", Limit: targetRPSVsNginx, Pass: r.RPSRatioVsNginx >= targetRPSVsNginx},
		{Name: "p99_ratio_vs_caddy", Value: r.P99RatioVsCaddy, Op: "<=", Limit: targetP99VsCaddy, Pass: r.P99RatioVsCaddy <= targetP99VsCaddy},
	}
	r.Pass = true
	for _, t := range r.Targets {
		r.Pass = r.Pass && t.Pass
	}
	return r, nil
}

// summarizeProxy takes the medians of one proxy's rounds.
func summarizeProxy(name string, run ProxyRun) (ProxySummary, error) {
	var rps, p50, p99, cpu, calls, backend, wrk []float64
	s := ProxySummary{Setup: run.Setup, TLS: run.TLS}
	for i, w := range run.Rounds {
		if w.Non2xx > 0 {
			return ProxySummary{}, fmt.Errorf("proxy report: %s round %d: %d answers were not 2xx or 3xx", name, i+1, w.Non2xx)
		}
		if w.RPS <= 0 || w.P50 <= 0 || w.P99 <= 0 {
			return ProxySummary{}, fmt.Errorf("proxy report: %s round %d: rps %v, p50 %v ms, p99 %v ms: all must be positive", name, i+1, w.RPS, w.P50, w.P99)
		}
		rps, p50, p99 = append(rps, w.RPS), append(p50, w.P50), append(p99, w.P99)
		cpu, calls = append(cpu, w.CPUPerRequestUS), append(calls, w.SyscallsPerRequest)
		backend, wrk = append(backend, w.BackendCPUPerRequestUS), append(wrk, w.WrkCPUPerRequestUS)
		s.SocketErrors += w.SocketErrors
		s.Rounds = append(s.Rounds, w)
	}
	// percentile fails only without samples, and there are some.
	m, _ := percentile(rps, 50)
	s.RPS = round(m, 1)
	m, _ = percentile(p50, 50)
	s.P50 = round(m, 3)
	m, _ = percentile(p99, 50)
	s.P99 = round(m, 3)
	m, _ = percentile(cpu, 50)
	s.CPUPerRequestUS = round(m, 1)
	m, _ = percentile(calls, 50)
	s.SyscallsPerRequest = round(m, 2)
	m, _ = percentile(backend, 50)
	s.BackendCPUPerRequestUS = round(m, 1)
	m, _ = percentile(wrk, 50)
	s.WrkCPUPerRequestUS = round(m, 1)
	return s, nil
}

// writeProxyTable prints r for people.
func writeProxyTable(w io.Writer, r ProxyReport) error {
	var b strings.Builder
	l := r.Load
	fmt.Fprintf(&b, "proxy benchmark: %s; %s, %d-byte answers; %d rounds of %gs, %s; medians over rounds\n\n",
		l.Command, l.Protocol, l.BodyBytes, l.Rounds, l.DurationS, l.Order)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "proxy\trps\tp50 ms\tp99 ms\tcpu us/req\tsyscalls/req\tbackend+wrk us/req\tsocket errors\t\trps by round\t\tversion")
	for _, p := range []struct {
		name string
		s    ProxySummary
	}{{proxyHearth, r.Hearth}, {proxyCaddy, r.Caddy}, {proxyNginx, r.Nginx}} {
		var byRound []string
		for _, w := range p.s.Rounds {
			byRound = append(byRound, fmt.Sprintf("%.0f", w.RPS))
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.3f\t%.3f\t%.1f\t%.2f\t%.1f+%.1f\t%d\t\t%s\t\t%s\n", p.name, p.s.RPS, p.s.P50, p.s.P99,
			p.s.CPUPerRequestUS, p.s.SyscallsPerRequest, p.s.BackendCPUPerRequestUS, p.s.WrkCPUPerRequestUS, p.s.SocketErrors,
			strings.Join(byRound, " "), r.Versions[p.name])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tvalue\tlimit\tresult\t")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t%.3f\t%s %.2f\t%s\t\n", t.Name, t.Value, t.Op, t.Limit, passFail(t.Pass))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	m := r.Machine
	fmt.Fprintf(&b, "\nmachine: %d cores, kernel %s, cgroup %s, %s; 1-minute load average %.2f before, %.2f after\n",
		m.Cores, m.Kernel, m.Cgroup, m.Go, m.LoadAvgBefore, m.LoadAvgAfter)
	if m.CPU != "" {
		fmt.Fprintf(&b, "cpu: %s\n", m.CPU)
	}
	fmt.Fprintf(&b, "parallelism: %s; cpu pinning: %s\ntls (all three): %s\n", l.Parallelism, l.CPUPinning, r.Hearth.TLS)
	fmt.Fprintf(&b, "load generator: %s\nresult: %s\n", r.Versions["wrk"], passFail(r.Pass))
	_, err := io.WriteString(w, b.String())
	return err
}
