package cloudflare_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hearthbox/hearth/ddns/provider/cloudflare"
)

// fakeCloudflare is an in-process Cloudflare API v4: zone lookup by name and
// the dns_records endpoints as documented (the {success, errors, messages,
// result, result_info} envelope, page/per_page pagination, type and exact
// name filters, TTL 1 or 60..86400, refusal of identical records and of
// records beside a CNAME, 429 with Retry-After).
type fakeCloudflare struct {
	token string

	// mu guards everything below.
	mu         sync.Mutex
	maxPerPage int
	zones      map[string]string       // name -> id
	records    map[string][]fakeRecord // zone id -> records, in creation order
	nextID     int
	throttle   []string // Retry-After values of the next answers, each a 429
	fail       []int    // statuses of the next answers (after throttling)
	requests   []string // "METHOD path?query" of every request
}

type fakeRecord struct {
	ID        string  `json:"id"`
	ZoneID    string  `json:"zone_id"`
	ZoneName  string  `json:"zone_name"`
	Type      string  `json:"type"`
	Name      string  `json:"name"`
	Content   string  `json:"content"`
	TTL       int     `json:"ttl"`
	Priority  *uint16 `json:"priority,omitempty"`
	Proxied   bool    `json:"proxied"`
	Proxiable bool    `json:"proxiable"`
}

type fakeMsg struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type fakeEnvelope struct {
	Success    bool      `json:"success"`
	Errors     []fakeMsg `json:"errors"`
	Messages   []fakeMsg `json:"messages"`
	Result     any       `json:"result"`
	ResultInfo *fakeInfo `json:"result_info,omitempty"`
}

type fakeInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

const fakeToken = "cf-token-abcdefghijklmnopqrstuvwxyz0123"

// newFake starts a fake Cloudflare holding empty zones and returns it with
// a Provider pointed at it.
func newFake(t *testing.T, zones ...string) (*fakeCloudflare, *cloudflare.Provider) {
	t.Helper()
	f := &fakeCloudflare{token: fakeToken, maxPerPage: 5000, zones: map[string]string{}, records: map[string][]fakeRecord{}}
	for i, z := range zones {
		f.zones[z] = fmt.Sprintf("023e105f4ecef8ad9ca31a8372d0c35%d", i)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, &cloudflare.Provider{APIToken: fakeToken, BaseURL: srv.URL + "/client/v4", HTTPClient: srv.Client()}
}

// add stores a record directly (test setup) and returns its id.
func (f *fakeCloudflare) add(zone, typ, name, content string, ttl int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.zones[zone]
	r := fakeRecord{Type: typ, Name: name, Content: content, TTL: ttl}
	f.store(id, zone, &r)
	return r.ID
}

func (f *fakeCloudflare) store(zoneID, zone string, r *fakeRecord) {
	f.nextID++
	r.ID = fmt.Sprintf("rec%04d", f.nextID)
	r.ZoneID, r.ZoneName = zoneID, zone
	r.Proxiable = r.Type == "A" || r.Type == "AAAA" || r.Type == "CNAME"
	f.records[zoneID] = append(f.records[zoneID], *r)
}

// state returns a zone's records as "id TYPE name ttl content", in order.
func (f *fakeCloudflare) state(zone string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.records[f.zones[zone]] {
		s := fmt.Sprintf("%s %s %s %d %s", r.ID, r.Type, r.Name, r.TTL, r.Content)
		if r.Priority != nil {
			s += fmt.Sprintf(" prio=%d", *r.Priority)
		}
		if r.Proxied {
			s += " proxied"
		}
		out = append(out, s)
	}
	return out
}

// setProxied marks a record proxied (test setup).
func (f *fakeCloudflare) setProxied(zone, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	recs := f.records[f.zones[zone]]
	for i := range recs {
		if recs[i].ID == id {
			recs[i].Proxied = true
		}
	}
}

// log returns the requests seen so far.
func (f *fakeCloudflare) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func reply(w http.ResponseWriter, status int, result any, info *fakeInfo, errs ...fakeMsg) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(fakeEnvelope{Success: len(errs) == 0, Errors: append([]fakeMsg{}, errs...), Messages: []fakeMsg{}, Result: result, ResultInfo: info})
}

func (f *fakeCloudflare) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	if len(f.throttle) > 0 {
		ra := f.throttle[0]
		f.throttle = f.throttle[1:]
		w.Header().Set("Retry-After", ra)
		reply(w, http.StatusTooManyRequests, nil, nil, fakeMsg{971, "Please wait and consider throttling your request speed"})
		return
	}
	if len(f.fail) > 0 {
		status := f.fail[0]
		f.fail = f.fail[1:]
		w.WriteHeader(status)
		fmt.Fprintf(w, "error code: %d", status)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		reply(w, http.StatusForbidden, nil, nil, fakeMsg{9109, "Invalid access token"})
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/client/v4/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "zones" && r.Method == http.MethodGet:
		f.listZones(w, r)
	case len(parts) >= 3 && parts[0] == "zones" && parts[2] == "dns_records":
		zone := ""
		for name, id := range f.zones {
			if id == parts[1] {
				zone = name
			}
		}
		if zone == "" {
			reply(w, http.StatusNotFound, nil, nil, fakeMsg{7003, "Could not route to /zones/" + parts[1] + "/dns_records, perhaps your object identifier is invalid?"})
			return
		}
		switch {
		case len(parts) == 3 && r.Method == http.MethodGet:
			f.listRecords(w, r, parts[1])
		case len(parts) == 3 && r.Method == http.MethodPost:
			f.write(w, r, parts[1], zone, "")
		case len(parts) == 4 && r.Method == http.MethodPut:
			f.write(w, r, parts[1], zone, parts[3])
		case len(parts) == 4 && r.Method == http.MethodDelete:
			f.remove(w, parts[1], parts[3])
		default:
			reply(w, http.StatusMethodNotAllowed, nil, nil, fakeMsg{10405, "Method not allowed"})
		}
	default:
		reply(w, http.StatusNotFound, nil, nil, fakeMsg{7003, "No route for that URI"})
	}
}

func (f *fakeCloudflare) listZones(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	res := []map[string]any{}
	for z, id := range f.zones {
		if name == "" || name == z {
			res = append(res, map[string]any{"id": id, "name": z, "status": "active"})
		}
	}
	reply(w, http.StatusOK, res, &fakeInfo{Page: 1, PerPage: 20, Count: len(res), TotalCount: len(res), TotalPages: 1})
}

func (f *fakeCloudflare) listRecords(w http.ResponseWriter, r *http.Request, zoneID string) {
	q := r.URL.Query()
	page, perPage := 1, 100
	if v := q.Get("page"); v != "" {
		page, _ = strconv.Atoi(v)
	}
	if v := q.Get("per_page"); v != "" {
		perPage, _ = strconv.Atoi(v)
	}
	if page < 1 || perPage < 1 {
		reply(w, http.StatusBadRequest, nil, nil, fakeMsg{1004, "DNS Validation Error"})
		return
	}
	perPage = min(perPage, f.maxPerPage)
	var match []fakeRecord
	for _, rec := range f.records[zoneID] {
		if t := q.Get("type"); t != "" && t != rec.Type {
			continue
		}
		if n := q.Get("name"); n != "" && !strings.EqualFold(n, rec.Name) {
			continue
		}
		match = append(match, rec)
	}
	total := (len(match) + perPage - 1) / perPage
	start := min((page-1)*perPage, len(match))
	end := min(start+perPage, len(match))
	res := append([]fakeRecord{}, match[start:end]...)
	reply(w, http.StatusOK, res, &fakeInfo{Page: page, PerPage: perPage, Count: len(res), TotalCount: len(match), TotalPages: total})
}

func (f *fakeCloudflare) write(w http.ResponseWriter, r *http.Request, zoneID, zone, id string) {
	var in struct {
		Type     string  `json:"type"`
		Name     string  `json:"name"`
		Content  string  `json:"content"`
		TTL      *int    `json:"ttl"`
		Priority *uint16 `json:"priority"`
		Proxied  *bool   `json:"proxied"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		reply(w, http.StatusBadRequest, nil, nil, fakeMsg{9207, "Request body is invalid."})
		return
	}
	recs := f.records[zoneID]
	idx := -1
	if id != "" {
		for i, rec := range recs {
			if rec.ID == id {
				idx = i
			}
		}
		if idx < 0 {
			reply(w, http.StatusNotFound, nil, nil, fakeMsg{81044, "Record does not exist."})
			return
		}
	}
	name := strings.ToLower(strings.TrimSuffix(in.Name, "."))
	switch {
	case name == "@" || name == "":
		name = zone
	case name != zone && !strings.HasSuffix(name, "."+zone):
		name += "." + zone
	}
	ttl := 1
	if in.TTL != nil {
		ttl = *in.TTL
	}
	if ttl != 1 && (ttl < 60 || ttl > 86400) {
		reply(w, http.StatusBadRequest, nil, nil, fakeMsg{9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."})
		return
	}
	switch in.Type {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(in.Content)
		if err != nil || ip.Is4() != (in.Type == "A") {
			family := "IPv6"
			if in.Type == "A" {
				family = "IPv4"
			}
			reply(w, http.StatusBadRequest, nil, nil, fakeMsg{9005, "Content for " + in.Type + " record is invalid. Must be a valid " + family + " address"})
			return
		}
	case "MX":
		if in.Priority == nil {
			reply(w, http.StatusBadRequest, nil, nil, fakeMsg{9101, "Priority is required for MX records."})
			return
		}
	case "TXT", "CNAME", "NS":
	default:
		reply(w, http.StatusBadRequest, nil, nil, fakeMsg{9000, "DNS record type is invalid."})
		return
	}
	for i, rec := range recs {
		if i == idx || !strings.EqualFold(rec.Name, name) {
			continue
		}
		if rec.Type == in.Type && rec.Content == in.Content {
			reply(w, http.StatusBadRequest, nil, nil, fakeMsg{81058, "An identical record already exists."})
			return
		}
		if rec.Type == "CNAME" && in.Type != "CNAME" {
			reply(w, http.StatusBadRequest, nil, nil, fakeMsg{81054, "A CNAME record with that host already exists."})
			return
		}
		if in.Type == "CNAME" {
			reply(w, http.StatusBadRequest, nil, nil, fakeMsg{81053, "An A, AAAA, or CNAME record with that host already exists."})
			return
		}
	}
	rec := fakeRecord{Type: in.Type, Name: name, Content: in.Content, TTL: ttl, Priority: in.Priority}
	if in.Proxied != nil {
		rec.Proxied = *in.Proxied
	}
	if idx < 0 {
		f.store(zoneID, zone, &rec)
	} else {
		rec.ID, rec.ZoneID, rec.ZoneName, rec.Proxiable = id, zoneID, zone, recs[idx].Proxiable
		recs[idx] = rec
	}
	reply(w, http.StatusOK, rec, nil)
}

func (f *fakeCloudflare) remove(w http.ResponseWriter, zoneID, id string) {
	recs := f.records[zoneID]
	for i, rec := range recs {
		if rec.ID == id {
			f.records[zoneID] = slices.Delete(recs, i, i+1)
			reply(w, http.StatusOK, map[string]string{"id": id}, nil)
			return
		}
	}
	reply(w, http.StatusNotFound, nil, nil, fakeMsg{81044, "Record does not exist."})
}
