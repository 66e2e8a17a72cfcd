package state

import (
	"errors"
	"testing"
)

// finishInstall is what the agent does at the end of an install: one
// transaction closes the operation, records the app and logs it.
func finishInstall(tx *Tx, op Operation, fail error) error {
	op.State = OpDone
	if err := tx.UpdateOp(op); err != nil {
		return err
	}
	if err := tx.PutApp(testApp(op.App)); err != nil {
		return err
	}
	if _, err := tx.AddActivity(Activity{Actor: op.Actor, App: op.App, Action: op.Kind, Outcome: "ok"}); err != nil {
		return err
	}
	return fail
}

func TestUpdateIsAtomic(t *testing.T) {
	cases := []struct {
		name string
		fail error
	}{
		{"commits everything", nil},
		{"rolls everything back", errors.New("crash before commit")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openTest(t, Options{})
			op := testOp(s.NewOpID(), "web", KindInstall)
			if err := s.BeginOp(op); err != nil {
				t.Fatal(err)
			}
			<-s.Watch()
			err := s.Update(func(tx *Tx) error { return finishInstall(tx, op, c.fail) })
			if !errors.Is(err, c.fail) {
				t.Fatalf("got %v, want %v", err, c.fail)
			}
			committed := c.fail == nil

			_, appErr := s.App("web")
			gotOp, opErr := s.Op(op.ID)
			acts, actErr := s.Activity(0, 0)
			if err := errors.Join(opErr, actErr); err != nil {
				t.Fatal(err)
			}
			if got := appErr == nil; got != committed {
				t.Errorf("got the app stored %v (%v), want %v", got, appErr, committed)
			}
			if got := gotOp.State == OpDone; got != committed {
				t.Errorf("got the operation %s, want it done %v", gotOp.State, committed)
			}
			if got := len(acts) == 1; got != committed {
				t.Errorf("got %d activity entries, want one %v", len(acts), committed)
			}
			if got := len(s.Watch()) == 1; got != committed {
				t.Errorf("got a watch signal %v, want %v", got, committed)
			}
		})
	}
}

func TestViewIsReadOnly(t *testing.T) {
	s := openTest(t, Options{})
	writesInView := []struct {
		name string
		call func(tx *Tx) error
	}{
		{"PutApp", func(tx *Tx) error { return tx.PutApp(testApp("web")) }},
		{"DeleteApp", func(tx *Tx) error { return tx.DeleteApp("web") }},
		{"BeginOp", func(tx *Tx) error { return tx.BeginOp(testOp(s.NewOpID(), "web", KindStart)) }},
		{"UpdateOp", func(tx *Tx) error { return tx.UpdateOp(testOp(s.NewOpID(), "web", KindStart)) }},
		{"AddActivity", func(tx *Tx) error {
			_, err := tx.AddActivity(Activity{Actor: "a", Action: "b", Outcome: "c"})
			return err
		}},
		{"PutCatalog", func(tx *Tx) error { return tx.PutCatalog(testCatalog("official")) }},
		{"DeleteCatalog", func(tx *Tx) error { return tx.DeleteCatalog("official") }},
	}
	for _, w := range writesInView {
		t.Run(w.name, func(t *testing.T) {
			err := s.View(w.call)
			if !errors.Is(err, ErrReadOnly) {
				t.Errorf("got %v, want ErrReadOnly", err)
			}
		})
	}
}

func TestTxIsDeadAfterItsFunction(t *testing.T) {
	s := openTest(t, Options{})
	var kept *Tx
	if err := s.Update(func(tx *Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := kept.PutApp(testApp("web")); !errors.Is(err, ErrTxDone) {
		t.Errorf("PutApp: got %v, want ErrTxDone", err)
	}
	if _, err := kept.Apps(); !errors.Is(err, ErrTxDone) {
		t.Errorf("Apps: got %v, want ErrTxDone", err)
	}
}

func TestUpdateWithoutChangesWritesNothing(t *testing.T) {
	s := openTest(t, Options{})
	if err := s.PutApp(testApp("web")); err != nil {
		t.Fatal(err)
	}
	<-s.Watch()
	before := writes(s)
	err := s.Update(func(tx *Tx) error {
		if _, err := tx.Apps(); err != nil {
			return err
		}
		return tx.PutApp(testApp("web"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := writes(s) - before; got != 0 {
		t.Errorf("got %d page writes, want 0", got)
	}
	if len(s.Watch()) != 0 {
		t.Error("got a watch signal for a transaction that changed nothing")
	}
}
