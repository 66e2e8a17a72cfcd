package rt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
)

// Inspect reports a container's state.
func (c *Client) Inspect(ctx context.Context, id string) (ContainerInfo, error) {
	ctx = c.ns(ctx)
	ctr, err := c.load(ctx, id)
	if err != nil {
		return ContainerInfo{}, err
	}
	return c.inspect(ctx, ctr)
}

// List reports the containers the runtime manages; a non-empty group selects
// those of one group.
func (c *Client) List(ctx context.Context, group string) ([]ContainerInfo, error) {
	ctx = c.ns(ctx)
	filter := fmt.Sprintf("labels.%q==true", labelManaged)
	if group != "" {
		filter += fmt.Sprintf(",labels.%q==%q", labelGroup, group)
	}
	ctrs, err := c.ctd.Containers(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]ContainerInfo, 0, len(ctrs))
	for _, ctr := range ctrs {
		info, err := c.inspect(ctx, ctr)
		if errdefs.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (c *Client) inspect(ctx context.Context, ctr containerd.Container) (ContainerInfo, error) {
	cinfo, err := ctr.Info(ctx, containerd.WithoutRefreshedMetadata)
	if err != nil {
		return ContainerInfo{}, fmt.Errorf("container %s: %w", ctr.ID(), err)
	}
	info := ContainerInfo{
		ID:       cinfo.ID,
		Group:    cinfo.Labels[labelGroup],
		Image:    cinfo.Image,
		SpecHash: cinfo.Labels[labelHash],
		State:    StateCreated,
		Labels:   cinfo.Labels,
	}
	task, err := ctr.Task(ctx, nil)
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		return ContainerInfo{}, fmt.Errorf("container %s: %w", ctr.ID(), err)
	default:
		st, err := task.Status(ctx)
		if err != nil && !errdefs.IsNotFound(err) {
			return ContainerInfo{}, fmt.Errorf("container %s: %w", ctr.ID(), err)
		}
		switch st.Status {
		case containerd.Running:
			info.State = StateRunning
			info.PID = task.Pid()
		case containerd.Paused, containerd.Pausing:
			info.State = StatePaused
			info.PID = task.Pid()
		case containerd.Stopped:
			info.State = StateStopped
			info.ExitCode = st.ExitStatus
			info.ExitedAt = st.ExitTime
		}
	}
	if ex, ok := c.lastExit(ctr.ID()); ok && info.State != StateRunning && info.State != StatePaused {
		info.State = StateStopped
		info.ExitCode = ex.ExitCode
		info.ExitedAt = ex.Time
		info.OOMKilled = ex.OOMKilled
	}
	if att, ok := c.net.Attachment(ctr.ID()); ok {
		info.IP = att.IP
	}
	if cinfo.Labels[labelHostNetwork] == "true" && info.State == StateRunning {
		info.IP = loopback() // the host's own address: it listens there
	}
	if info.State == StateRunning {
		if r, ok := c.hm.Result(ctr.ID()); ok {
			info.Health = Health(r.Status)
		}
	}
	return info, nil
}

// exitRecord is the last exit of a container, kept in its folder so that it
// outlives both the task and the agent.
type exitRecord struct {
	ExitCode  uint32    `json:"exitCode"`
	Time      time.Time `json:"time"`
	OOMKilled bool      `json:"oomKilled"`
}

func (c *Client) saveExit(id string, r exitRecord) error {
	dir := c.containerDir(id)
	if _, err := os.Stat(dir); err != nil {
		return nil // removed
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "exit.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "exit.json"))
}

func (c *Client) lastExit(id string) (exitRecord, bool) {
	var r exitRecord
	b, err := os.ReadFile(filepath.Join(c.containerDir(id), "exit.json"))
	if err != nil || json.Unmarshal(b, &r) != nil {
		return r, false
	}
	return r, true
}

func (c *Client) clearExit(id string) {
	_ = os.Remove(filepath.Join(c.containerDir(id), "exit.json"))
}

// loopback is 127.0.0.1, where a container on the host's network is
// reached from the host.
func loopback() netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, 1}) }
