package portmap_test

import (
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The routers below speak the real protocols on 127.0.0.1, for the tests.

// pmpCall is one NAT-PMP or PCP request a router received.
type pmpCall struct {
	Version  byte
	Op       byte
	Proto    string
	Internal uint16
	Lifetime uint32
	Nonce    string
}

// pmpRouter is a NAT-PMP server (RFC 6886) that also speaks PCP (RFC 6887)
// when pcp is set; otherwise it answers PCP with UNSUPP_VERSION, version 0.
type pmpRouter struct {
	conn     *net.UDPConn
	pcp      bool
	external netip.Addr

	mu sync.Mutex
	// result, when not zero, is the answer to every MAP request.
	result   byte
	calls    []pmpCall
	mappings map[string]uint32 // "443/tcp" -> lifetime
}

func startPMPRouter(t *testing.T, pcp bool) *pmpRouter {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &pmpRouter{conn: c, pcp: pcp, external: netip.MustParseAddr("203.0.113.7"), mappings: map[string]uint32{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1100)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if resp := r.answer(buf[:n]); resp != nil {
				_, _ = c.WriteToUDPAddrPort(resp, from)
			}
		}
	}()
	t.Cleanup(func() { _ = c.Close(); wg.Wait() })
	return r
}

func (r *pmpRouter) addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *pmpRouter) setResult(code byte) { r.mu.Lock(); r.result = code; r.mu.Unlock() }

func (r *pmpRouter) snapshot() ([]pmpCall, map[string]uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]uint32{}
	for k, v := range r.mappings {
		m[k] = v
	}
	return append([]pmpCall(nil), r.calls...), m
}

func (r *pmpRouter) answer(b []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(b) < 2 {
		return nil
	}
	if b[0] == 2 {
		return r.answerPCP(b)
	}
	if b[0] != 0 {
		return []byte{0, 128 + b[1], 0, 1, 0, 0, 0, 0} // Unsupported Version
	}
	switch op := b[1]; {
	case op == 0 && len(b) == 2:
		r.calls = append(r.calls, pmpCall{Version: 0, Op: 0})
		resp := []byte{0, 128, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}
		copy(resp[8:], r.external.AsSlice())
		return resp
	case (op == 1 || op == 2) && len(b) == 12:
		proto := map[byte]string{1: "udp", 2: "tcp"}[op]
		internal, life := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint32(b[8:])
		r.calls = append(r.calls, pmpCall{Version: 0, Op: op, Proto: proto, Internal: internal, Lifetime: life})
		resp := make([]byte, 16)
		resp[0], resp[1] = 0, 128+op
		binary.BigEndian.PutUint16(resp[2:], uint16(r.result))
		binary.BigEndian.PutUint32(resp[4:], 1)
		binary.BigEndian.PutUint16(resp[8:], internal)
		if r.result != 0 {
			return resp
		}
		r.record(proto, internal, life)
		if life > 0 {
			binary.BigEndian.PutUint16(resp[10:], internal)
		}
		binary.BigEndian.PutUint32(resp[12:], life)
		return resp
	default:
		return []byte{0, 128 + op, 0, 5, 0, 0, 0, 1} // Unsupported opcode
	}
}

func (r *pmpRouter) record(proto string, port uint16, life uint32) {
	k := fmt.Sprintf("%d/%s", port, proto)
	if life == 0 {
		delete(r.mappings, k)
	} else {
		r.mappings[k] = life
	}
}

func (r *pmpRouter) answerPCP(b []byte) []byte {
	if !r.pcp {
		return []byte{0, 128 + b[1], 0, 1, 0, 0, 0, 0}
	}
	resp := make([]byte, 24, 60)
	resp[0], resp[1] = 2, 0x80|b[1]
	binary.BigEndian.PutUint32(resp[8:], 1)
	switch {
	case b[1] == 0 && len(b) >= 24: // ANNOUNCE
		r.calls = append(r.calls, pmpCall{Version: 2, Op: 0})
		return resp
	case b[1] == 1 && len(b) >= 60: // MAP
		m := b[24:60]
		proto := map[byte]string{6: "tcp", 17: "udp"}[m[12]]
		internal, life := binary.BigEndian.Uint16(m[16:]), binary.BigEndian.Uint32(b[4:])
		r.calls = append(r.calls, pmpCall{Version: 2, Op: 1, Proto: proto, Internal: internal, Lifetime: life, Nonce: fmt.Sprintf("%x", m[:12])})
		resp = append(resp, m...)
		if r.result != 0 {
			resp[3] = r.result
			return resp
		}
		r.record(proto, internal, life)
		binary.BigEndian.PutUint32(resp[4:], life)
		ext := r.external.As16()
		copy(resp[24+20:], ext[:])
		return resp
	default:
		resp[3] = 4 // UNSUPP_OPCODE
		return resp
	}
}

// soapCall is one SOAP action an IGD received.
type soapCall struct {
	Action string
	Args   map[string]string
}

// igd is a UPnP Internet Gateway Device: an SSDP responder on a UDP port
// of 127.0.0.1 and an HTTP server with its description and WANIPConnection
// control URL.
type igd struct {
	ssdp *net.UDPConn
	http *httptest.Server
	// location overrides the LOCATION the SSDP answer gives.
	location string

	mu sync.Mutex
	// faults answer AddPortMapping of a port ("443") with a UPnP error.
	faults   map[string]int
	calls    []soapCall
	mappings map[string]string // "443/TCP" -> lease
}

const igdDescription = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>Test router</friendlyName>
<manufacturer>Hearth tests</manufacturer>
<modelName>IGD</modelName>
<UDN>uuid:11111111-2222-3333-4444-555555555555</UDN>
<serviceList><service>
<serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
<serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId>
<controlURL>/ctl/L3F</controlURL><eventSubURL>/evt/L3F</eventSubURL><SCPDURL>/L3F.xml</SCPDURL>
</service></serviceList>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
<friendlyName>WANDevice</friendlyName>
<UDN>uuid:11111111-2222-3333-4444-555555555556</UDN>
<serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId>
<controlURL>/ctl/CmnIfCfg</controlURL><eventSubURL>/evt/CmnIfCfg</eventSubURL><SCPDURL>/WANCfg.xml</SCPDURL>
</service></serviceList>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<friendlyName>WANConnectionDevice</friendlyName>
<UDN>uuid:11111111-2222-3333-4444-555555555557</UDN>
<serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<controlURL>/ctl/IPConn</controlURL><eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL>
</service></serviceList>
</device></deviceList>
</device></deviceList>
<presentationURL>http://127.0.0.1/</presentationURL>
</device>
</root>`

const wanIP1 = "urn:schemas-upnp-org:service:WANIPConnection:1"

func startIGD(t *testing.T) *igd {
	t.Helper()
	g := &igd{faults: map[string]int{}, mappings: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rootDesc.xml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		_, _ = io.WriteString(w, igdDescription)
	})
	mux.HandleFunc("POST /ctl/IPConn", g.control)
	g.http = httptest.NewServer(mux)
	t.Cleanup(g.http.Close)

	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	g.ssdp = c
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			req := string(buf[:n])
			if !strings.HasPrefix(req, "M-SEARCH * HTTP/1.1\r\n") || !strings.Contains(req, `MAN: "ssdp:discover"`) {
				continue
			}
			// An IGD:1 answers only a search for its own type (or all).
			if !strings.Contains(req, "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n") && !strings.Contains(req, "ST: ssdp:all\r\n") {
				continue
			}
			g.mu.Lock()
			loc := g.location
			g.mu.Unlock()
			if loc == "" {
				loc = g.http.URL + "/rootDesc.xml"
			}
			resp := "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
				"USN: uuid:11111111-2222-3333-4444-555555555555::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
				"EXT:\r\nSERVER: Linux/6 UPnP/1.1 TestIGD/1\r\nLOCATION: " + loc + "\r\n\r\n"
			_, _ = c.WriteToUDPAddrPort([]byte(resp), from)
		}
	}()
	t.Cleanup(func() { _ = c.Close(); wg.Wait() })
	return g
}

func (g *igd) ssdpAddr() netip.AddrPort { return g.ssdp.LocalAddr().(*net.UDPAddr).AddrPort() }

func (g *igd) setLocation(loc string) { g.mu.Lock(); g.location = loc; g.mu.Unlock() }

func (g *igd) setFault(port string, code int) { g.mu.Lock(); g.faults[port] = code; g.mu.Unlock() }

func (g *igd) snapshot() ([]soapCall, map[string]string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := map[string]string{}
	for k, v := range g.mappings {
		m[k] = v
	}
	return append([]soapCall(nil), g.calls...), m
}

// soapEnvelope decodes the one action of a SOAP request.
type soapEnvelope struct {
	Body struct {
		Action struct {
			XMLName xml.Name
			Args    []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:",any"`
	} `xml:"Body"`
}

var faultNames = map[int]string{402: "Invalid Args", 714: "NoSuchEntryInArray", 718: "ConflictInMappingEntry", 725: "OnlyPermanentLeasesSupported"}

func (g *igd) control(w http.ResponseWriter, r *http.Request) {
	var env soapEnvelope
	if err := xml.NewDecoder(r.Body).Decode(&env); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := env.Body.Action.XMLName.Local
	if got, want := r.Header.Get("SOAPAction"), `"`+wanIP1+"#"+action+`"`; got != want || env.Body.Action.XMLName.Space != wanIP1 {
		soapFault(w, 401, "Invalid Action")
		return
	}
	args := map[string]string{}
	for _, a := range env.Body.Action.Args {
		args[a.XMLName.Local] = a.Value
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, soapCall{Action: action, Args: args})
	key := args["NewExternalPort"] + "/" + args["NewProtocol"]
	out := ""
	switch action {
	case "GetExternalIPAddress":
		out = "<NewExternalIPAddress>203.0.113.9</NewExternalIPAddress>"
	case "AddPortMapping":
		if code := g.faults[args["NewExternalPort"]]; code != 0 && !(code == 725 && args["NewLeaseDuration"] == "0") {
			soapFault(w, code, faultNames[code])
			return
		}
		if _, err := strconv.Atoi(args["NewLeaseDuration"]); err != nil || args["NewInternalClient"] == "" {
			soapFault(w, 402, faultNames[402])
			return
		}
		g.mappings[key] = args["NewLeaseDuration"]
	case "DeletePortMapping":
		if _, ok := g.mappings[key]; !ok {
			soapFault(w, 714, faultNames[714])
			return
		}
		delete(g.mappings, key)
	default:
		soapFault(w, 401, "Invalid Action")
		return
	}
	w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	fmt.Fprintf(w, `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:%sResponse xmlns:u="%s">%s</u:%sResponse></s:Body></s:Envelope>`, action, wanIP1, out, action)
}

func soapFault(w http.ResponseWriter, code int, desc string) {
	w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>%d</errorCode><errorDescription>%s</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`, code, desc)
}
