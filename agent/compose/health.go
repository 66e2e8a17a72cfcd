package compose

import (
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hearthbox/hearth/agent/manifest"
)

// Docker's health check timings, used when the file gives none, so that a
// check behaves as its author saw it.
const (
	dockerInterval = 30 * time.Second
	dockerTimeout  = 30 * time.Second
)

// health maps healthcheck: CMD runs as given, CMD-SHELL under /bin/sh -c
// (the image needs a shell). Timings are kept within Hearth's bounds.
func (t *translator) health(name string, h *types.HealthCheckConfig) *manifest.HealthCheck {
	if h == nil || h.Disable {
		return nil
	}
	if len(h.Test) == 0 {
		t.warn(name, "healthcheck", "no test: the image's own health check is not run by Hearth")
		return nil
	}
	var cmd []string
	switch h.Test[0] {
	case "NONE":
		return nil
	case "CMD":
		cmd = append([]string{}, h.Test[1:]...)
	case "CMD-SHELL":
		if len(h.Test) > 1 {
			cmd = []string{"/bin/sh", "-c", joinArgs(h.Test[1:])}
		}
	default:
		t.warn(name, "healthcheck.test", "%q is not CMD, CMD-SHELL or NONE: no health check", h.Test[0])
		return nil
	}
	if len(cmd) == 0 || cmd[0] == "" {
		t.warn(name, "healthcheck.test", "names no program: no health check")
		return nil
	}
	for _, a := range cmd {
		if hasMarker(a) || len(a) > maxValue {
			t.warn(name, "healthcheck.test", "uses a value only known at install, which health checks cannot hold: no health check")
			return nil
		}
	}
	hc := &manifest.HealthCheck{Command: cmd}
	if probe, ok := httpProbe(h.Test); ok {
		hc = &manifest.HealthCheck{HTTP: probe}
	}
	interval, timeout := dockerInterval, dockerTimeout
	if h.Interval != nil {
		interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		timeout = time.Duration(*h.Timeout)
	}
	interval = t.clamp(name, "healthcheck.interval", interval, time.Second, time.Hour)
	timeout = t.clamp(name, "healthcheck.timeout", timeout, time.Second, min(5*time.Minute, interval))
	hc.Interval, hc.Timeout = manifest.Duration(interval), manifest.Duration(timeout)
	if h.StartPeriod != nil {
		hc.StartPeriod = manifest.Duration(t.clamp(name, "healthcheck.start_period", time.Duration(*h.StartPeriod), 0, time.Hour))
	}
	if h.Retries != nil {
		r := int(min(*h.Retries, 1000))
		switch {
		case r == 0:
		case r > 100:
			t.warn(name, "healthcheck.retries", "%d is more than Hearth's 100: 100", r)
			hc.Retries = 100
		default:
			hc.Retries = r
		}
	}
	if h.StartInterval != nil {
		t.warn(name, "healthcheck.start_interval", "is not kept: checks run every interval from the start")
	}
	return hc
}

func (t *translator) clamp(name, key string, d, lo, hi time.Duration) time.Duration {
	switch {
	case d < lo:
		t.warn(name, key, "%s is less than Hearth's %s: %s", d, lo, lo)
		return lo
	case d > hi:
		t.warn(name, key, "%s is more than Hearth allows here: %s", d, hi)
		return hi
	}
	return d
}

// joinArgs joins the words of a CMD-SHELL test with spaces, as Docker does.
func joinArgs(a []string) string {
	s := ""
	for i, w := range a {
		if i > 0 {
			s += " "
		}
		s += w
	}
	return s
}
