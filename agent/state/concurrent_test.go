package state

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentUse runs writers and readers at once; under -race it shows
// the store needs no locking from its callers.
func TestConcurrentUse(t *testing.T) {
	s := openTest(t, Options{})
	const workers, rounds = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for w := range workers {
		app := fmt.Sprintf("app%d", w)
		wg.Add(1)
		go func() { // a writer: one app's lifecycle, rounds times
			defer wg.Done()
			for i := range rounds {
				op := testOp(s.NewOpID(), app, KindRestart)
				if err := s.BeginOp(op); err != nil {
					errs <- err
					return
				}
				a := testApp(app)
				a.Settings = map[string]string{"round": fmt.Sprint(i)}
				err := s.Update(func(tx *Tx) error {
					op.State = OpDone
					if err := tx.UpdateOp(op); err != nil {
						return err
					}
					if err := tx.PutApp(a); err != nil {
						return err
					}
					_, err := tx.AddActivity(Activity{Actor: "test", App: app, Action: "restart", Outcome: "ok"})
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
		wg.Add(1)
		go func() { // a reader
			defer wg.Done()
			for range rounds {
				if _, err := s.Apps(); err != nil {
					errs <- err
					return
				}
				if _, err := s.OpenOps(); err != nil {
					errs <- err
					return
				}
				if _, err := s.RecentActivity(10); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Every writer races for the same app too: exactly one may hold it.
	var busy, began int
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.BeginOp(testOp(s.NewOpID(), "shared", KindInstall))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				began++
			case errors.Is(err, ErrBusy):
				busy++
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if began != 1 || busy != workers-1 {
		t.Errorf("got %d begun and %d busy for one app, want 1 and %d", began, busy, workers-1)
	}
	apps, err := s.Apps()
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != workers {
		t.Errorf("got %d apps, want %d", len(apps), workers)
	}
	for _, a := range apps {
		if a.Settings["round"] != fmt.Sprint(rounds-1) {
			t.Errorf("%s: got round %q, want the last, %d", a.ID, a.Settings["round"], rounds-1)
		}
	}
	acts, err := s.Activity(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != workers*rounds {
		t.Errorf("got %d activity entries, want %d", len(acts), workers*rounds)
	}
	open, err := s.OpenOps()
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].App != "shared" {
		t.Errorf("got %d open operations, want the one on shared", len(open))
	}
}
