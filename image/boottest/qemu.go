package boottest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	osimage "github.com/hearthbox/hearth/image"
)

// Options describe one machine.
type Options struct {
	Arch osimage.Arch
	// Qemu defaults to qemu-system-x86_64 or qemu-system-aarch64.
	Qemu string
	// Disk is the raw image the machine boots (and writes).
	Disk string
	// OVMFCode and OVMFVars are the UEFI firmware (amd64); OVMFVars is
	// copied, never written.
	OVMFCode, OVMFVars string
	// Kernel, Initrd and Cmdline boot the kernel directly (arm64).
	Kernel, Initrd, Cmdline string
	// Forwards maps guest TCP ports to host loopback ports.
	Forwards map[int]int
	// Dir holds the serial log, the monitor socket and the firmware copy.
	Dir string
	// KVM uses hardware virtualization; otherwise TCG.
	KVM    bool
	Memory string
	CPUs   int
}

// Machine is a running qemu.
type Machine struct {
	// Started is when qemu was started: the boot figures count from it.
	Started time.Time
	// SerialPath is the file the serial console is written to.
	SerialPath string
	monitor    string
	cmd        *exec.Cmd
	done       chan error
	exit       error
}

// Start starts qemu.
func Start(ctx context.Context, o Options) (*Machine, error) {
	if o.Memory == "" {
		o.Memory = "2048"
	}
	if o.CPUs == 0 {
		o.CPUs = 2
	}
	m := &Machine{SerialPath: filepath.Join(o.Dir, "serial.log"), monitor: filepath.Join(o.Dir, "monitor.sock"), done: make(chan error, 1)}
	_ = os.Remove(m.monitor)
	args := []string{"-nodefaults", "-m", o.Memory, "-smp", strconv.Itoa(o.CPUs), "-nographic", "-display", "none",
		"-serial", "file:" + m.SerialPath, "-monitor", "unix:" + m.monitor + ",server,nowait",
		"-drive", "if=virtio,format=raw,cache=unsafe,file=" + o.Disk,
		"-device", "virtio-rng-pci"}
	net := "user,id=n0"
	for guest, host := range o.Forwards {
		net += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", host, guest)
	}
	accel := []string{"-accel", "tcg"}
	if o.KVM {
		accel = []string{"-accel", "kvm", "-cpu", "host"}
	}
	switch o.Arch {
	case osimage.AMD64:
		if o.Qemu == "" {
			o.Qemu = "qemu-system-x86_64"
		}
		vars := filepath.Join(o.Dir, "OVMF_VARS.fd")
		if err := copyFile(o.OVMFVars, vars); err != nil {
			return nil, err
		}
		args = append(args, "-machine", "q35",
			"-drive", "if=pflash,format=raw,readonly=on,file="+o.OVMFCode,
			"-drive", "if=pflash,format=raw,file="+vars,
			"-netdev", net, "-device", "virtio-net-pci,netdev=n0")
	case osimage.ARM64:
		if o.Qemu == "" {
			o.Qemu = "qemu-system-aarch64"
		}
		if !o.KVM {
			accel = append(accel, "-cpu", "max")
		}
		args = append(args, "-machine", "virt",
			"-kernel", o.Kernel, "-initrd", o.Initrd, "-append", o.Cmdline,
			"-netdev", net, "-device", "virtio-net-pci,netdev=n0")
	default:
		return nil, fmt.Errorf("arch %q: not amd64 or arm64", o.Arch)
	}
	args = append(args, accel...)
	// Not CommandContext: Stop ends it, whatever happens to ctx.
	m.cmd = exec.Command(o.Qemu, args...)
	logf, err := os.Create(filepath.Join(o.Dir, "qemu.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	m.Started = time.Now()
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Qemu, err)
	}
	go func() { m.done <- m.cmd.Wait() }()
	return m, nil
}

// Serial returns what the serial console printed so far.
func (m *Machine) Serial() string {
	b, _ := os.ReadFile(m.SerialPath)
	return string(b)
}

// Exited says whether qemu has stopped (and why).
func (m *Machine) Exited() (bool, error) {
	select {
	case err := <-m.done:
		m.exit = err
		m.done <- err
		return true, err
	default:
		return false, nil
	}
}

// Powerdown presses the power button and waits for qemu to stop, killing
// it after timeout.
func (m *Machine) Powerdown(timeout time.Duration) error {
	if err := m.monitorCommand("system_powerdown"); err != nil {
		_ = m.Kill()
		return fmt.Errorf("monitor: %w", err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-m.done:
		m.done <- err
		return nil
	case <-t.C:
		_ = m.Kill()
		return errors.New("the machine did not power off in time: killed")
	}
}

// monitorCommand sends one command to qemu's human monitor and waits for
// its next prompt, so that the command is read before the connection ends.
func (m *Machine) monitorCommand(cmd string) error {
	c, err := net.DialTimeout("unix", m.monitor, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := readUntil(c, "(qemu)"); err != nil {
		return fmt.Errorf("banner: %w", err)
	}
	if _, err := c.Write([]byte(cmd + "\n")); err != nil {
		return err
	}
	return readUntil(c, "(qemu)")
}

// readUntil reads from r until what it read contains marker.
func readUntil(r io.Reader, marker string) error {
	var seen []byte
	buf := make([]byte, 512)
	for !strings.Contains(string(seen), marker) {
		n, err := r.Read(buf)
		seen = append(seen, buf[:n]...)
		if err != nil {
			return err
		}
	}
	return nil
}

// Kill stops qemu now and waits for it.
func (m *Machine) Kill() error {
	if ok, _ := m.Exited(); ok {
		return nil
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	err := <-m.done
	m.done <- err
	return nil
}

// FreePorts returns n free TCP ports on loopback.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ProbeKVM boots kernel under KVM with nothing to mount and says whether
// it reached its init within timeout: on some machines /dev/kvm exists but
// a stock kernel hangs under it.
func ProbeKVM(ctx context.Context, arch osimage.Arch, kernel, initrd, dir string, timeout time.Duration) bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	qemu, cons := "qemu-system-x86_64", "ttyS0"
	machine := "q35"
	if arch == osimage.ARM64 {
		qemu, cons, machine = "qemu-system-aarch64", "ttyAMA0", "virt"
	}
	serial := filepath.Join(dir, "kvm-probe.log")
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(pctx, qemu, "-machine", machine, "-accel", "kvm", "-cpu", "host", "-m", "512",
		"-nographic", "-display", "none", "-monitor", "none", "-serial", "file:"+serial,
		"-kernel", kernel, "-initrd", initrd, "-append", "console="+cons+" panic=-1 root=/dev/hearth-probe rootdelay=0")
	if err := cmd.Start(); err != nil {
		return false
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	defer func() { cancel(); <-done }()
	for {
		select {
		case <-pctx.Done():
			return false
		case <-done:
			b, _ := os.ReadFile(serial)
			return strings.Contains(string(b), "Run /init as init process")
		case <-t.C:
			if b, _ := os.ReadFile(serial); strings.Contains(string(b), "Run /init as init process") {
				return true
			}
		}
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
