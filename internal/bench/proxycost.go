package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux architecture).
const userHZ = 100

// procUsage is what a set of processes used: CPU time (user and system)
// and read- and write-like system calls (/proc/<pid>/io syscr + syscw).
type procUsage struct {
	CPU      time.Duration
	Syscalls int64
}

// sub returns u - v.
func (u procUsage) sub(v procUsage) procUsage {
	return procUsage{CPU: u.CPU - v.CPU, Syscalls: u.Syscalls - v.Syscalls}
}

// readUsage adds up the usage of pids. The CPU time counts every thread.
func readUsage(pids []int) (procUsage, error) {
	var u procUsage
	for _, pid := range pids {
		cpu, err := procCPU(pid)
		if err != nil {
			return procUsage{}, err
		}
		n, err := procSyscalls(pid)
		if err != nil {
			return procUsage{}, err
		}
		u.CPU += cpu
		u.Syscalls += n
	}
	return u, nil
}

// procStatFields returns the fields of /proc/<pid>/stat after the command
// name (which may hold spaces): field 3 (state) is [0].
func procStatFields(pid int) ([]string, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	return strings.Fields(string(b[i+1:])), nil
}

// procCPU is a process's user plus system CPU time (stat fields 14, 15).
func procCPU(pid int) (time.Duration, error) {
	f, err := procStatFields(pid)
	if err != nil {
		return 0, err
	}
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// procSyscalls is a process's read- and write-like system calls so far.
func procSyscalls(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "io"))
	if err != nil {
		return 0, err
	}
	var n int64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "syscr" && k != "syscw") {
			continue
		}
		c, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/io: %w", pid, err)
		}
		n += c
	}
	return n, nil
}

// withChildren returns pid and the processes whose parent it is (nginx's
// master and its workers).
func withChildren(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := []int{pid}
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		f, err := procStatFields(child)
		if err != nil || len(f) < 2 {
			continue // gone meanwhile, or not readable
		}
		if f[1] == strconv.Itoa(pid) {
			pids = append(pids, child)
		}
	}
	return pids, nil
}
