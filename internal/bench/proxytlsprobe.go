package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// probeTLS connects to a proxy on 127.0.0.1:port with openssl s_client (the
// same OpenSSL library and defaults that wrk uses) and returns what they
// negotiated: "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519". The benchmark
// compares the three proxies' answers, so that none gets a cheaper cipher.
func probeTLS(ctx context.Context, openssl string, port int) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-brief",
		"-connect", "127.0.0.1:"+strconv.Itoa(port), "-servername", benchDialHost)
	out, err := cmd.CombinedOutput() // stdin is /dev/null: it closes at once
	s, perr := parseSClient(string(out))
	if perr != nil {
		if err == nil {
			err = perr
		}
		return "", fmt.Errorf("tls probe of port %d: %w: %s", port, err, strings.TrimSpace(string(out)))
	}
	return s, nil
}

// parseSClient reads the protocol, cipher suite and key exchange group
// from openssl s_client -brief's output.
func parseSClient(out string) (string, error) {
	var proto, suite, group string
	for line := range strings.SplitSeq(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch k {
		case "Protocol version":
			proto = v
		case "Ciphersuite":
			suite = v
		case "Server Temp Key", "Peer Temp Key":
			group, _, _ = strings.Cut(v, ",")
		}
	}
	if proto == "" || suite == "" || group == "" {
		return "", fmt.Errorf("no protocol, cipher suite or key exchange in the output")
	}
	return proto + " " + suite + " " + group, nil
}
