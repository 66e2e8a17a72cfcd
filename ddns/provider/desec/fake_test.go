package desec_test

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

	"github.com/hearthbox/hearth/ddns/provider/desec"
)

// fakeDesec is an in-process deSEC API: the RRset endpoints of
// https://desec.io/api/v1 as documented (cursor pagination, bulk PUT and
// PATCH applied all or nothing, the 3600 s minimum TTL, quoted TXT values,
// CNAME exclusivity, {"detail": ...} errors, 429 with Retry-After).
type fakeDesec struct {
	token string

	// mu guards everything below.
	mu       sync.Mutex
	pageSize int
	domains  map[string]map[fakeKey]fakeSet
	throttle []string // Retry-After values of the next answers, each a 429
	fail     []int    // statuses of the next answers (after throttling)
	requests []string // "METHOD path?query" of every request
}

type fakeKey struct{ subname, typ string }

type fakeSet struct {
	TTL     int
	Records []string
}

const fakeToken = "desec-token-1234567890abcdef"

// newFake starts a fake deSEC holding empty domains and returns it with a
// Provider pointed at it.
func newFake(t *testing.T, domains ...string) (*fakeDesec, *desec.Provider) {
	t.Helper()
	f := &fakeDesec{token: fakeToken, pageSize: 500, domains: map[string]map[fakeKey]fakeSet{}}
	for _, d := range domains {
		f.domains[d] = map[fakeKey]fakeSet{}
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, &desec.Provider{Token: fakeToken, BaseURL: srv.URL + "/api/v1", HTTPClient: srv.Client()}
}

// put stores an RRset directly (test setup).
func (f *fakeDesec) put(domain, subname, typ string, ttl int, records ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.domains[domain][fakeKey{subname, typ}] = fakeSet{TTL: ttl, Records: records}
}

// state returns a domain's RRsets as "subname TYPE ttl value|value", sorted.
func (f *fakeDesec) state(domain string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k, s := range f.domains[domain] {
		out = append(out, fmt.Sprintf("%s %s %d %s", k.subname, k.typ, s.TTL, strings.Join(s.Records, "|")))
	}
	slices.Sort(out)
	return out
}

// log returns the requests seen so far.
func (f *fakeDesec) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

type fakeDetail struct {
	Detail string `json:"detail"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeDesec) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	if len(f.throttle) > 0 {
		ra := f.throttle[0]
		f.throttle = f.throttle[1:]
		w.Header().Set("Retry-After", ra)
		writeJSON(w, http.StatusTooManyRequests, fakeDetail{"Request was throttled. Expected available in " + ra + " seconds."})
		return
	}
	if len(f.fail) > 0 {
		status := f.fail[0]
		f.fail = f.fail[1:]
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><body>%d upstream trouble</body></html>", status)
		return
	}
	if r.Header.Get("Authorization") != "Token "+f.token {
		writeJSON(w, http.StatusUnauthorized, fakeDetail{"Invalid token."})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/domains/")
	domain, tail, _ := strings.Cut(rest, "/")
	zone := f.domains[domain]
	if !ok || tail != "rrsets/" || zone == nil {
		writeJSON(w, http.StatusNotFound, fakeDetail{"Not found."})
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.list(w, r, domain, zone)
	case http.MethodPut, http.MethodPatch:
		f.bulk(w, r, domain, zone)
	default:
		writeJSON(w, http.StatusMethodNotAllowed, fakeDetail{fmt.Sprintf("Method %q not allowed.", r.Method)})
	}
}

type fakeOut struct {
	Domain  string   `json:"domain"`
	Subname string   `json:"subname"`
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Records []string `json:"records"`
	TTL     int      `json:"ttl"`
	Created string   `json:"created"`
	Touched string   `json:"touched"`
}

func out(domain string, k fakeKey, s fakeSet) fakeOut {
	name := domain + "."
	if k.subname != "" {
		name = k.subname + "." + name
	}
	return fakeOut{Domain: domain, Subname: k.subname, Name: name, Type: k.typ, Records: s.Records, TTL: s.TTL,
		Created: "2024-01-01T00:00:00Z", Touched: "2024-01-01T00:00:00Z"}
}

func (f *fakeDesec) list(w http.ResponseWriter, r *http.Request, domain string, zone map[fakeKey]fakeSet) {
	q := r.URL.Query()
	var keys []fakeKey
	for k := range zone {
		if sub, ok := q["subname"]; ok && sub[0] != k.subname {
			continue
		}
		if typ, ok := q["type"]; ok && typ[0] != k.typ {
			continue
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b fakeKey) int { return strings.Compare(a.subname+" "+a.typ, b.subname+" "+b.typ) })
	self := "http://" + r.Host + r.URL.Path
	cursor, paged := q["cursor"]
	if len(keys) > f.pageSize && !paged {
		w.Header().Set("Link", fmt.Sprintf(`<%s?cursor=>; rel="first"`, self))
		writeJSON(w, http.StatusBadRequest, fakeDetail{fmt.Sprintf("Pagination required. You can query up to %d items at once. Please use the `first` page link (see Link header).", f.pageSize)})
		return
	}
	start := 0
	if paged && cursor[0] != "" {
		n, err := strconv.Atoi(cursor[0])
		if err != nil || n < 0 || n > len(keys) {
			writeJSON(w, http.StatusBadRequest, fakeDetail{"Invalid cursor."})
			return
		}
		start = n
	}
	end := min(start+f.pageSize, len(keys))
	if paged {
		links := []string{fmt.Sprintf(`<%s?cursor=>; rel="first"`, self)}
		if end < len(keys) {
			links = append(links, fmt.Sprintf(`<%s?cursor=%d>; rel="next"`, self, end))
		}
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	res := []fakeOut{}
	for _, k := range keys[start:end] {
		res = append(res, out(domain, k, zone[k]))
	}
	writeJSON(w, http.StatusOK, res)
}

type fakeIn struct {
	Subname *string   `json:"subname"`
	Type    *string   `json:"type"`
	TTL     *int      `json:"ttl"`
	Records *[]string `json:"records"`
}

func (f *fakeDesec) bulk(w http.ResponseWriter, r *http.Request, domain string, zone map[fakeKey]fakeSet) {
	var in []fakeIn
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, fakeDetail{"JSON parse error - " + err.Error()})
		return
	}
	next := make(map[fakeKey]fakeSet, len(zone))
	for k, s := range zone {
		next[k] = s
	}
	errs := make([]map[string][]string, len(in))
	bad := false
	seen := map[fakeKey]bool{}
	touched := make([]fakeKey, len(in))
	for i, item := range in {
		e := map[string][]string{}
		errs[i] = e
		if item.Subname == nil {
			e["subname"] = []string{"This field is required."}
		}
		if item.Type == nil {
			e["type"] = []string{"This field is required."}
		}
		if r.Method == http.MethodPut && item.TTL == nil {
			e["ttl"] = []string{"This field is required."}
		}
		if r.Method == http.MethodPut && item.Records == nil {
			e["records"] = []string{"This field is required."}
		}
		if len(e) > 0 {
			bad = true
			continue
		}
		k := fakeKey{*item.Subname, *item.Type}
		touched[i] = k
		if seen[k] {
			e["non_field_errors"] = []string{"Same subname and type as in another RRset of this request."}
			bad = true
			continue
		}
		seen[k] = true
		s, exists := next[k]
		if item.TTL != nil {
			if *item.TTL < 3600 {
				e["ttl"] = []string{"Ensure this value is greater than or equal to 3600."}
			}
			s.TTL = *item.TTL
		}
		if item.Records != nil {
			for _, v := range *item.Records {
				if msg := fakeCheck(k.typ, v); msg != "" {
					e["records"] = append(e["records"], msg)
				}
			}
			s.Records = *item.Records
		}
		if !exists && len(s.Records) > 0 && item.TTL == nil {
			e["ttl"] = []string{"This field is required for new RRsets."}
		}
		if len(e) > 0 {
			bad = true
			continue
		}
		if len(s.Records) == 0 {
			delete(next, k)
		} else {
			next[k] = s
		}
	}
	for i, k := range touched {
		if len(errs[i]) > 0 {
			continue
		}
		for other := range next {
			if other.subname == k.subname && other.typ != k.typ && (other.typ == "CNAME" || k.typ == "CNAME") {
				if _, ok := next[k]; ok {
					errs[i]["non_field_errors"] = []string{"RRset with conflicting type present: CNAME. (No other RRsets are allowed alongside CNAME.)"}
					bad = true
				}
			}
		}
	}
	if bad {
		writeJSON(w, http.StatusBadRequest, errs)
		return
	}
	for k := range zone {
		delete(zone, k)
	}
	for k, s := range next {
		zone[k] = s
	}
	res := []fakeOut{}
	for _, k := range touched {
		if s, ok := zone[k]; ok {
			res = append(res, out(domain, k, s))
		}
	}
	writeJSON(w, http.StatusOK, res)
}

// fakeCheck returns deSEC's complaint about value v of type typ, or "".
func fakeCheck(typ, v string) string {
	switch typ {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(v)
		if err != nil || ip.Is4() != (typ == "A") {
			return fmt.Sprintf("Record content for type %s malformed: %s", typ, v)
		}
	case "TXT":
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return "Record content for type TXT malformed: strings must be quoted"
		}
	case "CNAME", "MX", "NS":
		if !strings.HasSuffix(v, ".") {
			return fmt.Sprintf("Record content for type %s malformed: target must be fully qualified", typ)
		}
	case "SRV", "CAA", "HTTPS":
	default:
		return fmt.Sprintf("The %s RRset type is currently unsupported.", typ)
	}
	return ""
}
