package manifest

import "time"

// Backup says how the agent takes a consistent copy of an app's data.
// Without one (or without Dump) the app's services are stopped for the
// copy and started again after it.
type Backup struct {
	// Dump is a command run inside Service before the copy, with the app
	// running, that writes a consistent dump into a volume (pg_dump,
	// sqlite3 .backup); exit status 0 means the dump is good. Items may use
	// {{...}} references.
	Dump []string `json:"dump,omitempty"`
	// Service runs Dump; it may be left out when the app has one service.
	Service string `json:"service,omitempty"`
	// Timeout bounds Dump (default 10 minutes, at most an hour).
	Timeout Duration `json:"timeout,omitempty"`
}

// maxDumpTimeout bounds Backup.Timeout.
const maxDumpTimeout = 60 * 60 // seconds

// DumpService is the service that runs the dump command: Service, or the
// only service.
func (b *Backup) DumpService(m *Manifest) string {
	if b.Service != "" {
		return b.Service
	}
	if len(m.Services) == 1 {
		for name := range m.Services {
			return name
		}
	}
	return ""
}

func (m *Manifest) validateBackup(l *errList) {
	b := m.Backup
	if b == nil {
		return
	}
	if b.Dump == nil {
		if b.Service != "" || b.Timeout != 0 {
			l.add("backup.dump", "is required with service and timeout")
		}
		return
	}
	if len(b.Dump) == 0 || b.Dump[0] == "" {
		l.add("backup.dump", "must name a program")
	} else {
		m.validateArgs(l, "backup.dump", b.Dump)
	}
	switch svc := b.DumpService(m); {
	case svc == "":
		l.add("backup.service", "is required when the app has more than one service")
	default:
		if _, ok := m.Services[svc]; !ok {
			l.add("backup.service", "%q is not one of the app's services", svc)
		}
	}
	if b.Timeout < 0 || time.Duration(b.Timeout) > maxDumpTimeout*time.Second {
		l.add("backup.timeout", "must be at most 1h")
	}
}
