package sampleimg

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// goBuild cross-compiles the app of s for p into out as a static binary,
// reproducibly: -trimpath, no VCS stamp, version and health linked in.
func (b *Builder) goBuild(ctx context.Context, s Spec, p platform, out string) error {
	pkg := "./internal/sampleapps/" + s.App
	ldflags := "-s -w -X main.version=" + s.Version
	if s.Broken {
		ldflags += " -X main.broken=true"
	}
	cmd := exec.CommandContext(ctx, b.cfg.GoBinary, "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Dir = b.cfg.ModuleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
	cmd.Env = append(cmd.Env, p.env...)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(output.String()))
	}
	return nil
}
