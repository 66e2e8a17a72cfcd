package main

import (
	"context"
	"log/slog"
	"strings"

	"github.com/hearthbox/hearth/agent"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/ddns/discover"
	"github.com/hearthbox/hearth/ddns/mdns"
)

// newReach makes the LAN responder (nil when --mdns is off) and the
// dynamic DNS runner over the settings in the store.
// router is the port mapper when --upnp is on (nil otherwise): the router's
// idea of the outside address is then one of the votes.
func newReach(cfg config, store *state.Store, router discover.Router, log *slog.Logger) (*agent.Reach, *mdns.Responder, error) {
	var responder *mdns.Responder
	off := ""
	if cfg.mdns {
		r, err := mdns.New(mdns.Config{
			Name:       cfg.boxName,
			Interfaces: splitList(cfg.mdnsInterfaces),
			OnRename: func(old, new string) {
				log.Warn("another device on the LAN uses the box's name: answering under another", "old", old+".local", "new", new+".local")
			},
			Logger: log,
		})
		if err != nil {
			return nil, nil, err
		}
		responder = r
	} else {
		off = "turned off (hearthd --mdns=false, or --dev without --mdns)"
	}
	sources, err := discover.DefaultSources(splitList(cfg.ipEcho), splitList(cfg.stun), router)
	if err != nil {
		return nil, nil, err
	}
	d, err := discover.New(discover.Config{Sources: sources, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	rc := agent.ReachConfig{Store: store, Discoverer: d, MDNSOff: off, BoxName: cfg.boxName, Logger: log}
	if responder != nil {
		rc.MDNS = responder
	}
	reach, err := agent.NewReach(rc)
	if err != nil {
		return nil, nil, err
	}
	return reach, responder, nil
}

// runMDNS runs the responder; its failure (port 5353 taken, no LAN
// interface) shows in the status and the log, and does not stop hearthd.
func runMDNS(ctx context.Context, r *mdns.Responder, log *slog.Logger) error {
	if err := r.Run(ctx); err != nil {
		log.Warn("mdns responder stopped", "err", err)
	}
	return nil
}

// splitList splits a comma-separated flag; nil when empty.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
