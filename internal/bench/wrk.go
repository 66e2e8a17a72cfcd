package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkLoad is how the load generator runs: the same for every proxy.
type wrkLoad struct {
	// Threads and Conns are wrk's -t and -c; Duration its -d.
	Threads, Conns int
	Duration       time.Duration
}

// args returns wrk's command line for url, asking for benchHost.
func (l wrkLoad) args(url string) []string {
	return []string{
		"-t" + strconv.Itoa(l.Threads),
		"-c" + strconv.Itoa(l.Conns),
		"-d" + strconv.Itoa(int(l.Duration/time.Second)) + "s",
		"--latency",
		"-H", "Host: " + benchHost,
		url,
	}
}

// WrkResult is what one wrk run reported. Latencies are in milliseconds.
type WrkResult struct {
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P75      float64 `json:"p75_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Requests int64   `json:"requests"`
	// Seconds is how long wrk says it ran.
	Seconds float64 `json:"seconds"`
	// SocketErrors are wrk's connect, read, write and timeout errors added
	// up; Non2xx its "Non-2xx or 3xx responses".
	SocketErrors int64 `json:"socket_errors"`
	Non2xx       int64 `json:"non_2xx"`
}

// runWrk runs wrk once against url and parses what it prints. It also
// returns the CPU time wrk used.
func runWrk(ctx context.Context, bin string, load wrkLoad, url string) (WrkResult, time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, load.args(url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return WrkResult{}, 0, fmt.Errorf("wrk %s: %w", url, ctx.Err())
		}
		return WrkResult{}, 0, fmt.Errorf("wrk %s: %w: %s", url, err, bytes.TrimSpace(append(stderr.Bytes(), stdout.Bytes()...)))
	}
	r, err := parseWrk(stdout.String())
	if err != nil {
		return WrkResult{}, 0, fmt.Errorf("wrk %s: %w", url, err)
	}
	return r, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// wrk 4.1's summary lines.
const (
	wrkRPSRe       = `^Requests/sec:\s+([0-9.]+)$`
	wrkPercentRe   = `^(50|75|90|99)%\s+([0-9.]+)(us|ms|s|m|h)$`
	wrkRequestsRe  = `^([0-9]+) requests in ([0-9.]+)(us|ms|s|m|h),`
	wrkSocketErrRe = `^Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)$`
	wrkNon2xxRe    = `^Non-2xx or 3xx responses: ([0-9]+)$`
)

// parseWrk reads the summary wrk --latency prints. Requests/sec, the 50%
// and 99% latencies and the request count must be there; the error lines
// are there only when there were errors.
func parseWrk(out string) (WrkResult, error) {
	rpsRe := regexp.MustCompile(wrkRPSRe)
	pctRe := regexp.MustCompile(wrkPercentRe)
	reqRe := regexp.MustCompile(wrkRequestsRe)
	sockRe := regexp.MustCompile(wrkSocketErrRe)
	non2xxRe := regexp.MustCompile(wrkNon2xxRe)

	var r WrkResult
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var err error
		switch {
		case rpsRe.MatchString(line):
			m := rpsRe.FindStringSubmatch(line)
			r.RPS, err = strconv.ParseFloat(m[1], 64)
			seen["rps"] = true
		case pctRe.MatchString(line):
			m := pctRe.FindStringSubmatch(line)
			var ms float64
			if ms, err = wrkMillis(m[2], m[3]); err == nil {
				switch m[1] {
				case "50":
					r.P50 = ms
				case "75":
					r.P75 = ms
				case "90":
					r.P90 = ms
				case "99":
					r.P99 = ms
				}
				seen["p"+m[1]] = true
			}
		case reqRe.MatchString(line):
			m := reqRe.FindStringSubmatch(line)
			if r.Requests, err = strconv.ParseInt(m[1], 10, 64); err == nil {
				var ms float64
				ms, err = wrkMillis(m[2], m[3])
				r.Seconds = ms / 1000
			}
			seen["requests"] = true
		case sockRe.MatchString(line):
			m := sockRe.FindStringSubmatch(line)
			for _, s := range m[1:] {
				var n int64
				if n, err = strconv.ParseInt(s, 10, 64); err != nil {
					break
				}
				r.SocketErrors += n
			}
		case non2xxRe.MatchString(line):
			r.Non2xx, err = strconv.ParseInt(non2xxRe.FindStringSubmatch(line)[1], 10, 64)
		}
		if err != nil {
			return WrkResult{}, fmt.Errorf("parse wrk output: line %q: %w", line, err)
		}
	}
	for _, k := range []string{"rps", "p50", "p99", "requests"} {
		if !seen[k] {
			return WrkResult{}, fmt.Errorf("parse wrk output: no %s line in %q", k, out)
		}
	}
	return r, nil
}

// wrkMillis converts one of wrk's durations (a number and its unit, as
// wrk's format_time_us writes them) to milliseconds.
func wrkMillis(num, unit string) (float64, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, err
	}
	switch unit {
	case "us":
		return v / 1000, nil
	case "ms":
		return v, nil
	case "s":
		return v * 1000, nil
	case "m":
		return v * 60 * 1000, nil
	case "h":
		return v * 3600 * 1000, nil
	}
	return 0, fmt.Errorf("unit %q: not one of us, ms, s, m, h", unit)
}
