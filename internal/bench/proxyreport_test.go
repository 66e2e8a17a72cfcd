package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wrkSample is what wrk 4.1 --latency prints (wrk's -d10s run against nginx
// on the development machine, with made-up error lines).
const wrkSample = `Running 10s test @ https://localhost:40769/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.62ms    7.01ms 132.55ms   94.12%
    Req/Sec     7.48k     1.21k   10.12k    71.50%
  Latency Distribution
     50%    3.16ms
     75%    4.88ms
     90%    7.94ms
     99%   29.21ms
  148860 requests in 10.01s, 173.41MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  14871.23
Transfer/sec:     17.32MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    WrkResult
		wantErr string
	}{
		{
			name: "with error lines",
			out:  wrkSample,
			want: WrkResult{RPS: 14871.23, P50: 3.16, P75: 4.88, P90: 7.94, P99: 29.21, Requests: 148860, Seconds: 10.01, SocketErrors: 5, Non2xx: 7},
		},
		{
			name: "without error lines, other units",
			out: strings.NewReplacer("     50%    3.16ms", "     50%  870.00us", "     99%   29.21ms", "     99%    1.02s",
				"  Socket errors: connect 0, read 2, write 0, timeout 3\n", "", "  Non-2xx or 3xx responses: 7\n", "").Replace(wrkSample),
			want: WrkResult{RPS: 14871.23, P50: 0.87, P75: 4.88, P90: 7.94, P99: 1020, Requests: 148860, Seconds: 10.01},
		},
		{
			name:    "no latency distribution (run without --latency)",
			out:     strings.ReplaceAll(wrkSample, "     99%   29.21ms\n", ""),
			wantErr: "no p99 line",
		},
		{
			name:    "no requests per second",
			out:     strings.ReplaceAll(wrkSample, "Requests/sec:  14871.23\n", ""),
			wantErr: "no rps line",
		},
		{
			name:    "nothing",
			out:     "unable to connect to localhost:1 Connection refused\n",
			wantErr: "no rps line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseWrk (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWrkMillis(t *testing.T) {
	tests := []struct {
		num, unit string
		want      float64
		wantErr   bool
	}{
		{"250.00", "us", 0.25, false},
		{"3.16", "ms", 3.16, false},
		{"1.50", "s", 1500, false},
		{"2.00", "m", 120000, false},
		{"1.00", "h", 3600000, false},
		{"1.00", "d", 0, true},
		{"x", "ms", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.num+tt.unit, func(t *testing.T) {
			got, err := wrkMillis(tt.num, tt.unit)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v ms, want %v ms", got, tt.want)
			}
		})
	}
}

func TestWrkArgs(t *testing.T) {
	got := wrkLoad{Threads: 2, Conns: 64, Duration: 10 * time.Second}.args("https://localhost:8443/")
	want := []string{"-t2", "-c64", "-d10s", "--latency", "-H", "Host: bench.hearth.test", "https://localhost:8443/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrk arguments (-want +got):\n%s", diff)
	}
}

// proxyRounds makes n rounds around rps, p50 and p99, in a fixed shuffle.
func proxyRounds(n int, rps, p50, p99, cpu float64) []ProxyRound {
	rs := make([]ProxyRound, n)
	for i := range rs {
		f := 1 + 0.05*float64((i*2)%n-n/2)
		rs[i] = ProxyRound{
			WrkResult: WrkResult{
				RPS: round(rps*f, 2), P50: round(p50/f, 2), P75: round(p50*1.4/f, 2), P90: round(p50*2/f, 2), P99: round(p99/f, 2),
				Requests: int64(rps * f * 10), Seconds: 10, SocketErrors: int64(i % 2),
			},
			CPUPerRequestUS: round(cpu*f, 2), SyscallsPerRequest: 4 + float64(i)/10,
			BackendCPUPerRequestUS: 21.5, WrkCPUPerRequestUS: 18.25,
		}
	}
	return rs
}

const sampleTLS = "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519"

// sampleProxyResults are three rounds of made-up measurements.
func sampleProxyResults() ProxyResults {
	return ProxyResults{
		Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		Load: ProxyLoad{
			Generator: "wrk (Debian)", Command: `wrk -t2 -c64 -d10s --latency -H "Host: bench.hearth.test" https://localhost:PORT/`,
			Threads: 2, Connections: 64, DurationS: 10, WarmupS: 3, Order: "interleaved",
			Protocol: "HTTP/1.1 keep-alive over TLS", Backend: "Go net/http", BodyBytes: 1024,
			Parallelism: "2: nginx worker_processes 2, Caddy GOMAXPROCS=2, Hearth GOMAXPROCS=2",
			CPUPinning:  "none: wrk, the backend and each proxy share all 2 cores alike",
		},
		Runs: map[string]ProxyRun{
			proxyHearth: {Version: "hearth proxy (this tree), go1.26.6", Setup: "in-process", TLS: sampleTLS, Rounds: proxyRounds(3, 9000, 6, 25, 65)},
			proxyCaddy:  {Version: "v2.11.9 (go1.26.6)", Setup: "caddy run", TLS: sampleTLS, Rounds: proxyRounds(3, 6000, 10, 40, 100)},
			proxyNginx:  {Version: "nginx/1.22.1", Setup: "nginx -p", TLS: sampleTLS, Rounds: proxyRounds(3, 14000, 3.5, 28, 30)},
		},
		WrkVersion: "wrk debian/4.1.0-3+b2 [epoll]",
		Machine:    ProxyMachine{Cores: 2, CPU: "AMD EPYC", Kernel: "6.1.0-18-amd64", Cgroup: "v2", Go: "go1.26.6", LoadAvgBefore: 0.5, LoadAvgAfter: 2.25},
	}
}

func TestProxyReportGolden(t *testing.T) {
	r, err := newProxyReport(sampleProxyResults())
	if err != nil {
		t.Fatalf("newProxyReport: %v", err)
	}
	var js, table bytes.Buffer
	if err := writeJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if err := writeProxyTable(&table, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "proxy.json.golden", js.Bytes())
	golden(t, "proxy.table.golden", table.Bytes())
}

func TestProxyReportTargets(t *testing.T) {
	tests := []struct {
		name                        string
		hearthRPS, hearthP99        float64
		caddyRPS, caddyP99          float64
		nginxRPS                    float64
		wantCaddy, wantNginx, wantP bool
	}{
		{"all met", 10000, 20, 9000, 20, 12000, true, true, true},
		{"at the limits", 10000, 24, 10000, 20, 12500, true, true, true},
		{"slower than caddy", 9990, 20, 10000, 20, 10000, false, true, true},
		{"below 0.8 of nginx", 10000, 20, 9000, 20, 12520, true, false, true},
		{"p99 above 1.2 of caddy", 10000, 24.1, 9000, 20, 10000, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleProxyResults()
			set := func(name string, rps, p99 float64) {
				run := res.Runs[name]
				for i := range run.Rounds {
					run.Rounds[i].RPS, run.Rounds[i].P99 = rps, p99
				}
				res.Runs[name] = run
			}
			set(proxyHearth, tt.hearthRPS, tt.hearthP99)
			set(proxyCaddy, tt.caddyRPS, tt.caddyP99)
			set(proxyNginx, tt.nginxRPS, 30)
			r, err := newProxyReport(res)
			if err != nil {
				t.Fatalf("newProxyReport: %v", err)
			}
			got := []bool{r.Targets[0].Pass, r.Targets[1].Pass, r.Targets[2].Pass, r.Pass}
			want := []bool{tt.wantCaddy, tt.wantNginx, tt.wantP, tt.wantCaddy && tt.wantNginx && tt.wantP}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rps vs caddy, rps vs nginx, p99 vs caddy, overall (-want +got):\n%s (ratios %v, %v, %v)",
					diff, r.RPSRatioVsCaddy, r.RPSRatioVsNginx, r.P99RatioVsCaddy)
			}
		})
	}
}

func TestProxyReportRefusesBadRuns(t *testing.T) {
	tests := []struct {
		name    string
		tweak   func(*ProxyResults)
		wantErr string
	}{
		{"nginx did not run", func(r *ProxyResults) { delete(r.Runs, proxyNginx) }, "nginx has no rounds"},
		{"caddy has fewer rounds", func(r *ProxyResults) {
			run := r.Runs[proxyCaddy]
			run.Rounds = run.Rounds[:2]
			r.Runs[proxyCaddy] = run
		}, "caddy has 2 rounds, want 3"},
		{"hearth answered errors", func(r *ProxyResults) { r.Runs[proxyHearth].Rounds[1].Non2xx = 12 }, "hearth round 2: 12 answers were not 2xx or 3xx"},
		{"zero requests per second", func(r *ProxyResults) { r.Runs[proxyNginx].Rounds[0].RPS = 0 }, "nginx round 1: rps 0"},
		{"nginx on another cipher", func(r *ProxyResults) {
			run := r.Runs[proxyNginx]
			run.TLS = "TLSv1.3 TLS_AES_256_GCM_SHA384 X25519"
			r.Runs[proxyNginx] = run
		}, `nginx negotiated TLS "TLSv1.3 TLS_AES_256_GCM_SHA384 X25519", hearth "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleProxyResults()
			tt.tweak(&res)
			_, err := newProxyReport(res)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestPeerConfGolden(t *testing.T) {
	c := peerConf{
		Dir: "/tmp/hbench-proxy-1/peer", Port: 8443, Backend: "127.0.0.1:9000",
		CertFile: "/tmp/hbench-proxy-1/tls/cert.pem", KeyFile: "/tmp/hbench-proxy-1/tls/key.pem", Workers: 2,
	}
	for _, tt := range []struct {
		name   string
		render func(peerConf) ([]byte, error)
		log    bool
	}{
		{"Caddyfile", renderCaddyfile, false},
		{"Caddyfile.accesslog", renderCaddyfile, true},
		{"nginx.conf", renderNginxConf, false},
		{"nginx.conf.accesslog", renderNginxConf, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := c
			c.AccessLog = tt.log
			got, err := tt.render(c)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			golden(t, tt.name+".golden", got)
		})
	}
}

func TestPeerConfValidate(t *testing.T) {
	good := peerConf{Dir: "/tmp/d", Port: 8443, Backend: "127.0.0.1:9000", CertFile: "/tmp/c.pem", KeyFile: "/tmp/k.pem", Workers: 2}
	tests := []struct {
		name    string
		tweak   func(*peerConf)
		wantErr string
	}{
		{"good", func(*peerConf) {}, ""},
		{"space in a path", func(c *peerConf) { c.Dir = "/tmp/my dir" }, `dir "/tmp/my dir": character ' ' is not allowed`},
		{"directive end in a path", func(c *peerConf) { c.KeyFile = "/tmp/k.pem; user root" }, "key_file"},
		{"block in the backend", func(c *peerConf) { c.Backend = "127.0.0.1:9000 {" }, "backend"},
		{"empty cert", func(c *peerConf) { c.CertFile = "" }, "cert_file: empty"},
		{"port 0", func(c *peerConf) { c.Port = 0 }, "port 0: must be 1..65535"},
		{"no workers", func(c *peerConf) { c.Workers = 0 }, "workers 0: must be 1..1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.tweak(&c)
			err := c.validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseSClient(t *testing.T) {
	tests := []struct {
		name, out, want string
		wantErr         bool
	}{
		{"tls 1.3", "CONNECTION ESTABLISHED\nProtocol version: TLSv1.3\nCiphersuite: TLS_AES_128_GCM_SHA256\n" +
			"Peer certificate: CN = bench.hearth.test\nServer Temp Key: X25519, 253 bits\nDONE\n", sampleTLS, false},
		{"no handshake", "connect:errno=111\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSClient(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQuoteArgs(t *testing.T) {
	got := quoteArgs([]string{"-t2", "-H", "Host: x.test", "https://localhost:1/"})
	if want := `-t2 -H "Host: x.test" https://localhost:1/`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
