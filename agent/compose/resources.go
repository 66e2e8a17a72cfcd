package compose

import (
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hearthbox/hearth/agent/manifest"
)

// Memory of imported services: what the file reserves counts towards the
// app's memoryMin (at least minService each); a service without a limit in
// the file may use defaultLimit (or its reservation, when larger).
const (
	mi           = int64(1) << 20
	minService   = 32 * mi
	minLimit     = 4 * mi
	defaultLimit = 1024 * mi
	maxLimit     = int64(1) << 40
)

// memory is one service's memory as the file says it.
type memory struct{ limit, reservation int64 }

// memoryOf reads deploy.resources and mem_limit / mem_reservation.
func (t *translator) memoryOf(name string, s types.ServiceConfig) {
	var m memory
	if d := s.Deploy; d != nil {
		if l := d.Resources.Limits; l != nil {
			m.limit = int64(l.MemoryBytes)
			if l.NanoCPUs != 0 || l.Pids != 0 {
				t.warn(name, "deploy.resources.limits", "only the memory limit is applied (no CPU or process limits)")
			}
		}
		if r := d.Resources.Reservations; r != nil {
			m.reservation = int64(r.MemoryBytes)
			if len(r.Devices) > 0 || len(r.GenericResources) > 0 {
				t.warn(name, "deploy.resources.reservations.devices", "GPU and device reservations are not honoured: pass the GPU with devices (/dev/dri, /dev/nvidia0, ...)")
			}
		}
	}
	if m.limit == 0 {
		m.limit = int64(s.MemLimit)
	}
	if m.reservation == 0 {
		m.reservation = int64(s.MemReservation)
	}
	if m.limit < 0 {
		m.limit = 0
	}
	if m.reservation < 0 {
		m.reservation = 0
	}
	if m.limit > 0 && m.limit < minLimit {
		t.warn(name, "mem_limit", "%s is less than Hearth's smallest limit: %s", manifest.Size(m.limit), manifest.Size(minLimit))
		m.limit = minLimit
	}
	m.limit = min(roundMi(m.limit), maxLimit)
	m.reservation = min(roundMi(m.reservation), maxLimit)
	if len(s.Gpus) > 0 || s.Runtime != "" {
		t.warn(name, "runtime", "GPU runtimes are not honoured: pass the GPU with devices (/dev/dri, /dev/nvidia0, ...)")
	}
	t.memory[name] = m
}

// roundMi rounds up to whole MiB.
func roundMi(n int64) int64 { return (n + mi - 1) / mi * mi }

// resources sets each service's memoryLimit and the app's resources.
func (t *translator) resources(m *manifest.Manifest) {
	var total, need int64
	unlimited := false
	for _, name := range t.order {
		mem := t.memory[name]
		need += max(mem.reservation, minService)
		budget := mem.limit
		if budget == 0 {
			unlimited = true
			budget = max(defaultLimit, mem.reservation)
			if mem.reservation > defaultLimit {
				mem.limit = budget // so that an equal share is not less
			}
		}
		if mem.limit > 0 {
			t.out[name].MemoryLimit = manifest.Size(mem.limit)
		}
		total += budget
	}
	if unlimited {
		t.warn("", "mem_limit", "services without a memory limit in the file may use %s each (or their reservation)", manifest.Size(defaultLimit))
	}
	m.Resources = manifest.Resources{MemoryMin: manifest.Size(min(need, maxLimit)), MemoryLimit: manifest.Size(min(max(total, need), maxLimit))}
}

// maxShm is the largest /dev/shm a service may have (the manifest's bound).
const maxShm = 1024 * mi

// shmSizes maps shm_size, in whole MiB, kept within the service's memory
// limit and maxShm; m has its services and resources.
func (t *translator) shmSizes(m *manifest.Manifest) {
	limits := m.MemoryLimits()
	for _, name := range t.order {
		svc := m.Services[t.names[name]]
		want := int64(t.proj.Services[name].ShmSize)
		if want <= 0 {
			continue
		}
		bound := min(limits[t.names[name]]/mi*mi, maxShm)
		size := min(roundMi(want), bound)
		if size < roundMi(want) {
			t.warn(name, "shm_size", "%s is more than the service may have: /dev/shm gets %s (at most its memory limit and %s)",
				manifest.Size(want), manifest.Size(size), manifest.Size(maxShm))
		}
		if size > 0 {
			svc.ShmSize = manifest.Size(size)
			m.Services[t.names[name]] = svc
		}
	}
}
