package certs

import (
	"context"
	"errors"
	"time"
)

// CertStatus is where a managed name's certificate stands.
type CertStatus struct {
	// Issuer is the certmagic key of the CA responsible for the name: the
	// local CA's ("hearth-lanca-…") or the ACME directory's
	// ("acme-v02.api.letsencrypt.org-directory"). Empty when the name is
	// not managed.
	Issuer string
	// NotBefore and NotAfter bound the certificate being served; zero
	// while there is none yet.
	NotBefore, NotAfter time.Time
	// LastError is why the last attempt to obtain or renew failed; nil
	// after a success.
	LastError error
	// LastAttempt is when the last attempt started; zero when certmagic
	// had nothing to obtain (the certificate came from storage).
	LastAttempt time.Time
}

// attempts is what the events told about one name.
type attempts struct {
	lastAttempt time.Time
	lastErr     error
	failures    int // in a row
}

// Status is the state of name's certificate. A name served by a managed
// wildcard reports the wildcard's certificate and attempts.
func (m *Manager) Status(name string) CertStatus {
	name = normalize(name)
	m.mu.Lock()
	e, ok := m.managed[name]
	if !ok {
		m.mu.Unlock()
		return CertStatus{}
	}
	subject := name
	if e.coveredBy != "" {
		subject = e.coveredBy
	}
	var st CertStatus
	if a := m.status[subject]; a != nil {
		st.LastAttempt, st.LastError = a.lastAttempt, a.lastErr
	}
	if e.lan {
		st.Issuer = m.ca.IssuerKey()
	} else {
		st.Issuer = m.acmeIssuer.IssuerKey()
	}
	m.mu.Unlock()

	for _, c := range m.cache.AllMatchingCertificates(subject) {
		if c.Leaf != nil && c.Leaf.NotAfter.After(st.NotAfter) {
			st.NotBefore, st.NotAfter = c.Leaf.NotBefore, c.Leaf.NotAfter
		}
	}
	return st
}

// fail records an error that ended a name's background work, unless an
// event already recorded it.
func (m *Manager) fail(name string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.managed[name]; !ok {
		return
	}
	a := m.attemptsOf(name)
	if a.lastErr == nil {
		a.lastErr = err
		a.failures++
	}
	if a.lastAttempt.IsZero() {
		a.lastAttempt = time.Now()
	}
	m.log.Error("certificate management stopped", "name", name, "err", err)
}

// attemptsOf is name's record, made when missing; m.mu must be held.
func (m *Manager) attemptsOf(name string) *attempts {
	a := m.status[name]
	if a == nil {
		a = &attempts{}
		m.status[name] = a
	}
	return a
}

// onEvent follows certmagic's attempts for the managed names.
func (m *Manager) onEvent(_ context.Context, event string, data map[string]any) error {
	name, _ := data["identifier"].(string)
	if name == "" {
		return nil
	}
	name = normalize(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.managed[name]
	if !ok || e.coveredBy != "" {
		return nil
	}
	a := m.attemptsOf(name)
	renewal, _ := data["renewal"].(bool)
	switch event {
	case "cert_obtaining":
		a.lastAttempt = time.Now()
	case "cert_obtained":
		a.lastErr, a.failures = nil, 0
		m.log.Info("certificate obtained", "name", name, "renewal", renewal)
	case "cert_failed":
		err, _ := data["error"].(error)
		if err == nil {
			err = errors.New("unknown failure")
		}
		a.lastErr = err
		a.failures++
		if a.lastAttempt.IsZero() {
			a.lastAttempt = time.Now()
		}
		m.log.Warn("certificate attempt failed", "name", name, "renewal", renewal, "failures", a.failures, "err", err)
	}
	return nil
}
