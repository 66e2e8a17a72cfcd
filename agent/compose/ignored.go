package compose

import (
	"github.com/compose-spec/compose-go/v2/types"
)

// ignored warns about the keys Hearth does not honour and that are safe to
// leave out (docs/compose.md, "Left out with a warning"). Keys that are
// mapped, asked for as permissions or refused are handled elsewhere.
func (t *translator) ignored(name string, s types.ServiceConfig) {
	for _, k := range []struct {
		key string
		set bool
		msg string
	}{
		{"restart", s.Restart == types.RestartPolicyNo, "\"no\" is not kept: Hearth always restarts a service that stops"},
		{"hostname", s.Hostname != "", "is not kept: the service's host name is its name"},
		{"domainname", s.DomainName != "", "is not kept"},
		{"extra_hosts", len(s.ExtraHosts) > 0, "is not kept: the service resolves only the app's services and public names"},
		{"dns", len(s.DNS) > 0 || len(s.DNSSearch) > 0 || len(s.DNSOpts) > 0, "is not kept: the app's network has its own resolver"},
		{"mac_address", s.MacAddress != "", "is not kept"},
		{"links", len(s.Links) > 0, "services reach each other by name; the links' aliases are rewritten where the file uses them"},
		{"external_links", len(s.ExternalLinks) > 0, "is not kept: an app reaches only its own services"},
		{"labels", len(s.Labels) > 0 || len(s.LabelFiles) > 0, "are not kept (Hearth reads only Traefik's port label)"},
		{"logging", s.Logging != nil || s.LogDriver != "", "is not kept: Hearth keeps every service's logs itself"},
		{"stop_grace_period", s.StopGracePeriod != nil, "is not kept: Hearth gives a stopping service its own grace period"},
		{"stop_signal", s.StopSignal != "", "is not kept: services are stopped with SIGTERM"},
		{"init", s.Init != nil && *s.Init, "is not kept: the service's first process runs without an init"},
		{"tty", s.Tty || s.StdinOpen, "is not kept: services run without a terminal"},
		{"security_opt", len(s.SecurityOpt) > 0, "is not kept: Hearth's own seccomp and no-new-privileges apply"},
		{"cpu_shares", s.CPUShares != 0 || s.CPUS != 0 || s.CPUQuota != 0 || s.CPUSet != "" || s.CPUCount != 0 || s.CPUPercent != 0 || s.CPUPeriod != 0, "CPU settings are not kept: the app gets an equal share"},
		{"ulimits", len(s.Ulimits) > 0, "are not kept: Hearth's limits apply"},
		{"pids_limit", s.PidsLimit != 0, "is not kept"},
		{"oom_score_adj", s.OomScoreAdj != 0 || s.OomKillDisable, "is not kept"},
		{"memswap_limit", s.MemSwapLimit != 0 || s.MemSwappiness != 0, "is not kept: services do not swap"},
		{"blkio_config", s.BlkioConfig != nil, "is not kept"},
		{"group_add", len(s.GroupAdd) > 0, "is not kept: the service runs with its user's groups"},
		{"storage_opt", len(s.StorageOpt) > 0, "is not kept"},
		{"pull_policy", s.PullPolicy != "", "is not kept: the agent pulls at install and update"},
		{"scale", (s.Scale != nil && *s.Scale > 1) || (s.Deploy != nil && s.Deploy.Replicas != nil && *s.Deploy.Replicas > 1), "Hearth runs one container per service"},
		{"deploy", s.Deploy != nil && (s.Deploy.Placement.Constraints != nil || s.Deploy.UpdateConfig != nil || s.Deploy.RestartPolicy != nil || s.Deploy.Mode != ""), "swarm settings (placement, update_config, restart_policy, mode) are not kept"},
		{"post_start", len(s.PostStart) > 0 || len(s.PreStop) > 0 || len(s.PreStart) > 0, "lifecycle hooks are not run"},
		{"develop", s.Develop != nil, "is not kept"},
		{"annotations", len(s.Annotations) > 0, "are not kept"},
	} {
		if !k.set {
			continue
		}
		t.warn(name, k.key, "%s", k.msg)
	}
	if s.Provider != nil || len(s.Models) > 0 {
		t.refuse(name, "provider", "services run by a provider or with models are not containers Hearth can run")
	}
}
