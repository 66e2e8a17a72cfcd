package portmap

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Protocols a router speaks, as Status.Protocol names them and as
// Config.Protocols orders them.
const (
	ProtoUPnP   = "upnp"
	ProtoNATPMP = "natpmp"
	ProtoPCP    = "pcp"
)

// Transport protocols of a Port.
const (
	TCP = "tcp"
	UDP = "udp"
)

// Errors of the package, checked with errors.Is.
var (
	// ErrNoRouter: no router answered any of the protocols tried.
	ErrNoRouter = errors.New("no router answered UPnP, NAT-PMP or PCP")
	// ErrConflict: the external port is mapped to another host already
	// (UPnP fault 718 ConflictInMappingEntry, PCP CANNOT_PROVIDE_EXTERNAL).
	ErrConflict = errors.New("the external port is taken on the router")
	// ErrRefused: the router refuses mappings (disabled by its owner, not
	// authorized, out of resources, or an unsupported request).
	ErrRefused = errors.New("the router refused the mapping")
	// ErrInvalid: a bad configuration or port; the message names the field.
	ErrInvalid = errors.New("invalid port mapping setting")
	// ErrProtocol: the router's answer breaks its protocol.
	ErrProtocol = errors.New("malformed answer from the router")
)

// Port is one port to forward from the router's external address to the
// same port on the box.
type Port struct {
	Port     uint16
	Protocol string // TCP or UDP
}

// String is "443/tcp".
func (p Port) String() string { return strconv.Itoa(int(p.Port)) + "/" + p.Protocol }

func (p Port) validate(field string) error {
	if p.Port == 0 {
		return fmt.Errorf("%s: port 0: %w", field, ErrInvalid)
	}
	if p.Protocol != TCP && p.Protocol != UDP {
		return fmt.Errorf("%s: protocol %q must be tcp or udp: %w", field, p.Protocol, ErrInvalid)
	}
	return nil
}

// Mapping is one port the router forwards.
type Mapping struct {
	Port
	// External is the router's port; the same number as Port when the router
	// agreed to it.
	External uint16
	// Lease is what the router granted; 0 is a permanent UPnP mapping.
	Lease time.Duration
	// Renew is when the Mapper asks again.
	Renew time.Time
}

// Status is what the owner sees: which protocol the router spoke, its
// external address, the ports mapped and the last error.
type Status struct {
	// Enabled is false once the Mapper was turned off (Close, or no ports).
	Enabled bool
	// Protocol is ProtoUPnP, ProtoNATPMP or ProtoPCP; "" when no router
	// answered yet.
	Protocol string
	// Router is the router's control URL (UPnP) or address (NAT-PMP, PCP).
	Router string
	// External is the router's public address, as it says.
	External netip.Addr
	// Mapped are the ports forwarded now, sorted.
	Mapped []Mapping
	// LastError is the last failure, "" after a pass without one.
	LastError string
	// Updated is when the Mapper last talked to the router.
	Updated time.Time
}

// ResultError is a failure the router reported in its protocol's terms.
type ResultError struct {
	Protocol string // ProtoUPnP, ProtoNATPMP or ProtoPCP
	Action   string // "AddPortMapping", "map", "external address", …
	Code     int    // UPnP errorCode, NAT-PMP or PCP result code
	Name     string // the code's name in its specification
	// Kind is ErrConflict, ErrRefused or ErrProtocol, when the code is one
	// of those; nil otherwise.
	Kind error
}

func (e *ResultError) Error() string {
	return fmt.Sprintf("%s %s: router answered %d %s", e.Protocol, e.Action, e.Code, e.Name)
}

// Unwrap gives Kind, so that errors.Is(err, ErrConflict) works.
func (e *ResultError) Unwrap() error { return e.Kind }
