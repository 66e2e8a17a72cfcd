package main

import "runtime"

// pinnedThread is an OS thread that stays alive for the whole run. The
// daemons the benchmark starts with a parent-death signal (containerd via
// internal/ctrd, dockerd) are started from it: the kernel sends that signal
// when the *thread* that forked the child ends, and Go ends a thread
// whenever a goroutine exits while locked to it, which the runtime's
// network-namespace code does on purpose. Started from any other thread, a
// daemon could be killed in the middle of the run.
type pinnedThread struct {
	work chan func()
	done chan struct{}
}

// newPinnedThread starts the thread's goroutine; close ends it.
func newPinnedThread() *pinnedThread {
	p := &pinnedThread{work: make(chan func()), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(p.done)
		for f := range p.work {
			f()
		}
	}()
	return p
}

// do runs f on the thread and waits for it.
func (p *pinnedThread) do(f func()) {
	ran := make(chan struct{})
	p.work <- func() {
		defer close(ran)
		f()
	}
	<-ran
}

// close ends the thread's goroutine (unlocking, so the thread lives on) and
// waits for it. Call it once the daemons are stopped.
func (p *pinnedThread) close() {
	close(p.work)
	<-p.done
}
