package portmap

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// wanServices are the services that map ports, in order of preference.
var wanServices = []string{
	"urn:schemas-upnp-org:service:WANIPConnection:2",
	"urn:schemas-upnp-org:service:WANIPConnection:1",
	"urn:schemas-upnp-org:service:WANPPPConnection:1",
}

// maxXML bounds what is read of a description or a SOAP answer.
const maxXML = 1 << 20

// upnpFaults names UPnP IGD error codes (WANIPConnection:2 2.5).
var upnpFaults = map[int]error{
	606: ErrRefused, // Action not authorized
	718: ErrConflict,
	728: ErrRefused, // NoPortMapsAvailable
	729: ErrConflict,
}

// upnp speaks SOAP to one WAN connection service of an IGD.
type upnp struct {
	client  *http.Client
	control *url.URL
	service string
	router  netip.Addr
}

func (c *upnp) protocol() string { return ProtoUPnP }
func (c *upnp) address() string  { return c.control.String() }

// description is the part of a UPnP device description read here.
type description struct {
	URLBase string `xml:"URLBase"`
	Device  device `xml:"device"`
}

type device struct {
	DeviceType string    `xml:"deviceType"`
	Services   []service `xml:"serviceList>service"`
	Devices    []device  `xml:"deviceList>device"`
}

type service struct {
	ServiceType string `xml:"serviceType"`
	ControlURL  string `xml:"controlURL"`
}

// find returns the first service of type t in the device tree.
func (d device) find(t string) (service, bool) {
	for _, s := range d.Services {
		if strings.TrimSpace(s.ServiceType) == t {
			return s, true
		}
	}
	for _, sub := range d.Devices {
		if s, ok := sub.find(t); ok {
			return s, true
		}
	}
	return service{}, false
}

// discoverUPnP fetches the description at loc and picks its WAN service.
func discoverUPnP(ctx context.Context, hc *http.Client, loc *url.URL) (*upnp, error) {
	router, _ := netip.ParseAddr(loc.Hostname())
	router = router.Unmap()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("upnp description: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upnp description: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("upnp description %s: status %d: %w", loc, resp.StatusCode, ErrProtocol)
	}
	var d description
	if err := xml.NewDecoder(io.LimitReader(resp.Body, maxXML)).Decode(&d); err != nil {
		return nil, fmt.Errorf("upnp description %s: %w: %w", loc, ErrProtocol, err)
	}
	base := loc
	if d.URLBase != "" {
		if base, err = url.Parse(strings.TrimSpace(d.URLBase)); err != nil {
			return nil, fmt.Errorf("upnp description %s: URLBase: %w: %w", loc, ErrProtocol, err)
		}
	}
	for _, t := range wanServices {
		s, ok := d.Device.find(t)
		if !ok {
			continue
		}
		ref, err := url.Parse(strings.TrimSpace(s.ControlURL))
		if err != nil {
			return nil, fmt.Errorf("upnp description %s: controlURL: %w: %w", loc, ErrProtocol, err)
		}
		control := base.ResolveReference(ref)
		if control.Scheme != "http" {
			return nil, fmt.Errorf("upnp description %s: controlURL %q is not http: %w", loc, control.Redacted(), ErrProtocol)
		}
		if err := sameHost(control, router); err != nil {
			return nil, fmt.Errorf("upnp description %s: controlURL: %w", loc, err)
		}
		return &upnp{client: hc, control: control, service: t, router: router}, nil
	}
	return nil, fmt.Errorf("upnp description %s: no WANIPConnection or WANPPPConnection service: %w", loc, ErrRefused)
}

// arg is one SOAP argument, in the order the action lists them.
type arg struct{ name, value string }

// call runs one SOAP action and gives the answer's values by element name;
// what names the action in errors ("AddPortMapping 443/tcp").
func (c *upnp) call(ctx context.Context, action, what string, args ...arg) (map[string]string, error) {
	var body bytes.Buffer
	body.WriteString(`<?xml version="1.0"?>` + "\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>`)
	fmt.Fprintf(&body, `<u:%s xmlns:u="%s">`, action, c.service)
	for _, a := range args {
		body.WriteString("<" + a.name + ">")
		_ = xml.EscapeText(&body, []byte(a.value))
		body.WriteString("</" + a.name + ">")
	}
	fmt.Fprintf(&body, `</u:%s></s:Body></s:Envelope>`, action)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.control.String(), &body)
	if err != nil {
		return nil, fmt.Errorf("upnp %s: %w", what, err)
	}
	req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
	req.Header.Set("SOAPAction", `"`+c.service+"#"+action+`"`)
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("upnp %s: %w: %w", what, errNoAnswer, err)
	}
	defer resp.Body.Close()
	values, perr := leaves(io.LimitReader(resp.Body, maxXML))
	if resp.StatusCode == http.StatusOK && perr == nil {
		return values, nil
	}
	if code, err := strconv.Atoi(values["errorCode"]); err == nil {
		name := strings.TrimSpace(values["errorDescription"])
		return nil, &ResultError{Protocol: ProtoUPnP, Action: what, Code: code, Name: name, Kind: upnpFaults[code]}
	}
	if perr != nil {
		return nil, fmt.Errorf("upnp %s: status %d: %w: %w", what, resp.StatusCode, ErrProtocol, perr)
	}
	return nil, fmt.Errorf("upnp %s: status %d without a UPnP error: %w", what, resp.StatusCode, ErrProtocol)
}

// leaves maps the local name of every element that holds only text to
// that text.
func leaves(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	d := xml.NewDecoder(r)
	var text strings.Builder
	leaf := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			text.Reset()
			leaf = true
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if leaf {
				out[t.Name.Local] = strings.TrimSpace(text.String())
			}
			leaf = false
		}
	}
}

func (c *upnp) externalAddr(ctx context.Context) (netip.Addr, error) {
	v, err := c.call(ctx, "GetExternalIPAddress", "GetExternalIPAddress")
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(v["NewExternalIPAddress"])
	if err != nil {
		return netip.Addr{}, fmt.Errorf("upnp GetExternalIPAddress: %q: %w", v["NewExternalIPAddress"], ErrProtocol)
	}
	return a.Unmap(), nil
}

// internalClient is the box's address as the router sees it.
func (c *upnp) internalClient(ctx context.Context) (string, error) {
	port := c.control.Port()
	if port == "" {
		port = "80"
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", net.JoinHostPort(c.router.String(), port))
	if err != nil {
		return "", fmt.Errorf("upnp: route to %s: %w", c.router, err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap().String(), nil
}

// errPermanentOnly is UPnP's 725 OnlyPermanentLeasesSupported.
const errPermanentOnly = 725

func (c *upnp) add(ctx context.Context, p Port, lease time.Duration, description string) (Mapping, error) {
	client, err := c.internalClient(ctx)
	if err != nil {
		return Mapping{}, err
	}
	port := strconv.Itoa(int(p.Port))
	args := func(lease time.Duration) []arg {
		return []arg{{"NewRemoteHost", ""}, {"NewExternalPort", port}, {"NewProtocol", strings.ToUpper(p.Protocol)},
			{"NewInternalPort", port}, {"NewInternalClient", client}, {"NewEnabled", "1"},
			{"NewPortMappingDescription", description}, {"NewLeaseDuration", strconv.FormatUint(uint64(seconds(lease)), 10)}}
	}
	_, err = c.call(ctx, "AddPortMapping", "AddPortMapping "+p.String(), args(lease)...)
	var re *ResultError
	if errors.As(err, &re) && re.Code == errPermanentOnly {
		lease = 0
		_, err = c.call(ctx, "AddPortMapping", "AddPortMapping "+p.String(), args(0)...)
	}
	if err != nil {
		return Mapping{}, err
	}
	return Mapping{Port: p, External: p.Port, Lease: lease}, nil
}

// noSuchEntry is UPnP's 714 NoSuchEntryInArray: already gone.
const noSuchEntry = 714

func (c *upnp) remove(ctx context.Context, m Mapping) error {
	_, err := c.call(ctx, "DeletePortMapping", "DeletePortMapping "+m.Port.String(), arg{"NewRemoteHost", ""},
		arg{"NewExternalPort", strconv.Itoa(int(m.External))}, arg{"NewProtocol", strings.ToUpper(m.Protocol)})
	var re *ResultError
	if errors.As(err, &re) && re.Code == noSuchEntry {
		return nil
	}
	return err
}
