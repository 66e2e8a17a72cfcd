package discover

// DefaultEchoURLs are public HTTPS echo services that answer with the
// caller's address as plain text, over IPv4 and IPv6.
func DefaultEchoURLs() []string {
	return []string{"https://api64.ipify.org", "https://ifconfig.co/ip", "https://icanhazip.com"}
}

// DefaultSTUNServers are public STUN servers.
func DefaultSTUNServers() []string {
	return []string{"stun.l.google.com:19302", "stun.cloudflare.com:3478"}
}

// DefaultSources returns sources over the given echo URLs and STUN
// servers (the defaults above when nil), plus the router when r is not
// nil.
func DefaultSources(echoURLs, stunServers []string, r Router) ([]Source, error) {
	if echoURLs == nil {
		echoURLs = DefaultEchoURLs()
	}
	if stunServers == nil {
		stunServers = DefaultSTUNServers()
	}
	var out []Source
	for _, u := range echoURLs {
		e, err := NewEcho(EchoConfig{URL: u})
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	for _, s := range stunServers {
		st, err := NewSTUN(STUNConfig{Server: s})
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if r != nil {
		out = append(out, NewRouterSource(r))
	}
	return out, nil
}
