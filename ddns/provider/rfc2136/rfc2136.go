// Package rfc2136 is a libdns provider that changes a zone with RFC 2136
// dynamic updates signed with TSIG (RFC 8945), as BIND, Knot, PowerDNS and
// other authoritative servers accept them. It is what the DNS updater (ddns)
// and certificates over DNS-01 (proxy/certs) use for an own zone.
//
// Every message goes over TCP to one primary server and is signed; replies
// must be signed with the same key. Updates are atomic: one call sends one
// UPDATE message, which the server applies whole or not at all. GetRecords
// reads the zone with a signed AXFR, so the key must be allowed to transfer
// it; the other methods need only update rights and signed queries.
package rfc2136

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// Errors; check them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field that cannot be used.
	ErrInvalidConfig = errors.New("invalid rfc2136 config")
	// ErrInvalidRecord reports an input record that cannot be sent.
	ErrInvalidRecord = errors.New("invalid record")
	// ErrRejected reports a server that answered with an error code
	// (REFUSED, NOTAUTH, SERVFAIL...).
	ErrRejected = errors.New("dns server rejected the request")
)

// DefaultTTL is the TTL of records given without one.
const DefaultTTL = 60 * time.Second

// Config configures a Provider.
type Config struct {
	// Server is the primary server's host:port (":53" when no port).
	Server string
	// KeyName is the TSIG key's name, as the server knows it.
	KeyName string
	// Secret is the TSIG key's secret, base64 encoded.
	Secret string
	// Algorithm is the TSIG algorithm: hmac-sha256 (the default),
	// hmac-sha224, hmac-sha384, hmac-sha512 or hmac-sha1.
	Algorithm string
	// Timeout bounds each exchange with the server; 0 means 10 s.
	Timeout time.Duration
}

// Provider is a libdns provider over RFC 2136. It is safe for concurrent use.
type Provider struct {
	server  string
	keyName string
	secret  string
	alg     string
	timeout time.Duration
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
)

var algorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// New checks cfg and returns a Provider. It does not contact the server.
func New(cfg Config) (*Provider, error) {
	server := cfg.Server
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(strings.Trim(server, "[]"), "53")
	}
	host, port, err := net.SplitHostPort(server)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("server %q: want host:port: %w", cfg.Server, ErrInvalidConfig)
	}
	if cfg.KeyName == "" {
		return nil, fmt.Errorf("key_name: required: %w", ErrInvalidConfig)
	}
	if _, ok := dns.IsDomainName(cfg.KeyName); !ok {
		return nil, fmt.Errorf("key_name %q: not a domain name: %w", cfg.KeyName, ErrInvalidConfig)
	}
	if key, err := base64.StdEncoding.DecodeString(cfg.Secret); err != nil || len(key) == 0 {
		return nil, fmt.Errorf("secret: want a non-empty base64 string: %w", ErrInvalidConfig)
	}
	name := strings.ToLower(cfg.Algorithm)
	if name == "" {
		name = "hmac-sha256"
	}
	alg, ok := algorithms[strings.TrimSuffix(name, ".")]
	if !ok {
		return nil, fmt.Errorf("algorithm %q: want one of hmac-sha256, hmac-sha224, hmac-sha384, hmac-sha512, hmac-sha1: %w", cfg.Algorithm, ErrInvalidConfig)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("timeout %s: negative: %w", cfg.Timeout, ErrInvalidConfig)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	return &Provider{
		server:  server,
		keyName: dns.CanonicalName(cfg.KeyName),
		secret:  cfg.Secret,
		alg:     alg,
		timeout: timeout,
	}, nil
}

// GetRecords returns every record of zone except SOA, read with AXFR.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	zone, err := canonicalZone(zone)
	if err != nil {
		return nil, err
	}
	rrs, err := p.transfer(ctx, zone)
	if err != nil {
		return nil, err
	}
	out := make([]libdns.Record, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			continue
		}
		out = append(out, fromRR(zone, rr))
	}
	return out, nil
}

// AppendRecords adds recs to zone in one update and returns them as added
// (with the default TTL where they had none).
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	zone, rrs, err := prepare(zone, recs)
	if err != nil || len(rrs) == 0 {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.Insert(rrs)
	if err := p.update(ctx, zone, m); err != nil {
		return nil, err
	}
	return fromRRs(zone, rrs), nil
}

// SetRecords makes recs the only members of their (name, type) sets in one
// atomic update: each set is removed and the input added in one message.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	zone, rrs, err := prepare(zone, recs)
	if err != nil || len(rrs) == 0 {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	type set struct {
		name  string
		rtype uint16
	}
	seen := map[set]bool{}
	var sets []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		k := set{strings.ToLower(h.Name), h.Rrtype}
		if !seen[k] {
			seen[k] = true
			sets = append(sets, &dns.ANY{Hdr: dns.RR_Header{Name: h.Name, Rrtype: h.Rrtype, Class: dns.ClassINET}})
		}
	}
	m.RemoveRRset(sets)
	m.Insert(rrs)
	if err := p.update(ctx, zone, m); err != nil {
		return nil, libdns.AtomicErr(err)
	}
	return fromRRs(zone, rrs), nil
}

// DeleteRecords removes the records of zone that match recs and returns
// them. An empty Type, zero TTL or empty Data matches any; Name is
// required. Records that do not exist are ignored.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	zone, err := canonicalZone(zone)
	if err != nil {
		return nil, err
	}
	var doomed []dns.RR
	dup := map[string]bool{}
	for i, r := range recs {
		want := r.RR()
		if want.Name == "" {
			return nil, fmt.Errorf("recs[%d].name: required: %w", i, ErrInvalidRecord)
		}
		existing, err := p.existing(ctx, zone, want)
		if err != nil {
			return nil, fmt.Errorf("recs[%d]: %w", i, err)
		}
		for _, rr := range existing {
			if matches(zone, want, rr) && !dup[rr.String()] {
				dup[rr.String()] = true
				doomed = append(doomed, rr)
			}
		}
	}
	if len(doomed) == 0 {
		return nil, nil
	}
	deleted := fromRRs(zone, doomed) // before Remove, which zeroes TTL and class in place
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.Remove(doomed)
	if err := p.update(ctx, zone, m); err != nil {
		return nil, err
	}
	return deleted, nil
}

// existing returns the records that may match want: the (name, type) set
// by a signed query, or the whole zone when no type is given.
func (p *Provider) existing(ctx context.Context, zone string, want libdns.RR) ([]dns.RR, error) {
	name := absolute(want.Name, zone)
	if want.Type == "" {
		return p.transfer(ctx, zone)
	}
	rtype, ok := dns.StringToType[strings.ToUpper(want.Type)]
	if !ok {
		return nil, fmt.Errorf("type %q: unknown: %w", want.Type, ErrInvalidRecord)
	}
	m := new(dns.Msg)
	m.SetQuestion(name, rtype)
	m.RecursionDesired = false
	r, err := p.exchange(ctx, m)
	if err != nil {
		return nil, err
	}
	if r.Rcode == dns.RcodeNameError {
		return nil, nil
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("query %s %s: server answered %s: %w", name, want.Type, dns.RcodeToString[r.Rcode], ErrRejected)
	}
	var out []dns.RR
	for _, rr := range r.Answer {
		if h := rr.Header(); h.Rrtype == rtype && strings.EqualFold(h.Name, name) {
			out = append(out, rr)
		}
	}
	return out, nil
}

// update sends a signed UPDATE and checks the answer.
func (p *Provider) update(ctx context.Context, zone string, m *dns.Msg) error {
	r, err := p.exchange(ctx, m)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("update %s: server answered %s: %w", zone, dns.RcodeToString[r.Rcode], ErrRejected)
	}
	return nil
}

// exchange signs m, sends it over TCP and verifies the signed answer.
func (p *Provider) exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	m.SetTsig(p.keyName, p.alg, 300, time.Now().Unix())
	c := &dns.Client{
		Net:        "tcp",
		Timeout:    p.timeout,
		TsigSecret: map[string]string{p.keyName: p.secret},
	}
	r, _, err := c.ExchangeContext(ctx, m, p.server)
	if err != nil {
		return nil, fmt.Errorf("exchange with %s: %w", p.server, err)
	}
	if r.IsTsig() == nil {
		return nil, fmt.Errorf("answer from %s is not signed (%s): %w", p.server, dns.RcodeToString[r.Rcode], ErrRejected)
	}
	return r, nil
}

// transfer reads the whole zone with a signed AXFR.
func (p *Provider) transfer(ctx context.Context, zone string) ([]dns.RR, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.server)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", p.server, err)
	}
	// Closing the connection ends the transfer's reader when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		if stop() {
			conn.Close()
		}
	}()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	t := &dns.Transfer{
		Conn:       &dns.Conn{Conn: conn},
		TsigSecret: map[string]string{p.keyName: p.secret},
	}
	m := new(dns.Msg)
	m.SetAxfr(zone)
	m.SetTsig(p.keyName, p.alg, 300, time.Now().Unix())
	envs, err := t.In(m, p.server)
	if err != nil {
		return nil, fmt.Errorf("axfr %s: %w", zone, err)
	}
	var rrs []dns.RR
	var firstErr error
	for e := range envs { // drained to the end: In's reader closes it
		if e.Error != nil && firstErr == nil {
			firstErr = e.Error
		}
		rrs = append(rrs, e.RR...)
	}
	if firstErr != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("axfr %s: %w", zone, ctx.Err())
		}
		if refusedTransfer(firstErr) {
			return nil, fmt.Errorf("axfr %s: %w: %w", zone, firstErr, ErrRejected)
		}
		return nil, fmt.Errorf("axfr %s: %w", zone, firstErr)
	}
	if len(rrs) == 0 {
		return nil, fmt.Errorf("axfr %s: empty transfer: %w", zone, ErrRejected)
	}
	return dedupeSOA(rrs), nil
}

// refusedTransfer reports a transfer the server refused: an error code
// (REFUSED, NOTAUTH) or an answer not signed with our key.
func refusedTransfer(err error) bool {
	return errors.Is(err, dns.ErrNoSig) || errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrAuth) ||
		strings.HasPrefix(err.Error(), "dns: bad xfr rcode")
}

// dedupeSOA drops the closing SOA of a transfer.
func dedupeSOA(rrs []dns.RR) []dns.RR {
	if n := len(rrs); n > 1 && rrs[n-1].Header().Rrtype == dns.TypeSOA && rrs[0].Header().Rrtype == dns.TypeSOA {
		return rrs[:n-1]
	}
	return rrs
}
