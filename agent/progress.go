package agent

import (
	"context"
	"sync"

	"github.com/hearthbox/hearth/agent/api"
)

// progress fans an operation's events out to its watchers and remembers
// the last one, so a late watcher of a finished operation still learns how
// it ended.
type progress struct {
	// mu guards subs and last.
	mu   sync.Mutex
	subs map[string]map[chan api.Progress]struct{}
	last map[string]api.Progress
}

func newProgress() *progress {
	return &progress{subs: map[string]map[chan api.Progress]struct{}{}, last: map[string]api.Progress{}}
}

// watch subscribes to op's events until ctx ends or the op is done.
func (p *progress) watch(ctx context.Context, op string) <-chan api.Progress {
	ch := make(chan api.Progress, 64)
	p.mu.Lock()
	defer p.mu.Unlock()
	if last, ok := p.last[op]; ok && last.Done {
		ch <- last
		close(ch)
		return ch
	}
	if p.subs[op] == nil {
		p.subs[op] = map[chan api.Progress]struct{}{}
	}
	p.subs[op][ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, ok := p.subs[op][ch]; ok {
			delete(p.subs[op], ch)
			close(ch)
		}
	})
	return ch
}

// send delivers ev to op's watchers; a full watcher misses events but never
// the last one, which closes its channel.
func (p *progress) send(ev api.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[ev.Operation] = ev
	for ch := range p.subs[ev.Operation] {
		if ev.Done {
			select {
			case ch <- ev:
			default:
				// make room for the last event
				select {
				case <-ch:
				default:
				}
				ch <- ev
			}
			close(ch)
			continue
		}
		select {
		case ch <- ev:
		default:
		}
	}
	if ev.Done {
		delete(p.subs, ev.Operation)
	}
}
