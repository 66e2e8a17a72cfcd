package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
)

// TEMPORARY experiment: a bare httputil.ReverseProxy in this process.
func startStdRP(env peerEnv) (*runningProxy, error) {
	u, _ := url.Parse("http://" + env.backend)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 128}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: rp, TLSConfig: &tls.Config{Certificates: []tls.Certificate{env.pki.Leaf}, NextProtos: []string{"h2", "http/1.1"}}}
	go srv.ServeTLS(ln, "", "")
	port := ln.Addr().(*net.TCPAddr).Port
	return &runningProxy{Name: "gostd", URL: proxyURL(port), Version: "stdlib", Setup: "bare",
		pids: func() ([]int, error) { return []int{os.Getpid()}, nil },
		stop: func(ctx context.Context) error { return srv.Close() }}, nil
}

var _ = strconv.Itoa
