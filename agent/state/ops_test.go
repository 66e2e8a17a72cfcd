package state

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBeginOpRefusesInvalidOps(t *testing.T) {
	cases := []struct {
		name  string
		tune  func(*Operation)
		field string
	}{
		{"empty id", func(op *Operation) { op.ID = "" }, "id"},
		{"id with slash", func(op *Operation) { op.ID = "01/2" }, "id"},
		{"bad app", func(op *Operation) { op.App = "Web" }, "app"},
		{"unknown kind", func(op *Operation) { op.Kind = "explode" }, "kind"},
		{"params not JSON", func(op *Operation) { op.Params = json.RawMessage("{") }, "params"},
		{"unknown state", func(op *Operation) { op.State = "sleeping" }, "state"},
		{"begins finished", func(op *Operation) { op.State = OpDone }, "state"},
		{"begins ended", func(op *Operation) { op.Started, op.Ended = t0, t0.Add(time.Second) }, "ended"},
		{"no actor", func(op *Operation) { op.Actor = "" }, "actor"},
		{"actor with a newline", func(op *Operation) { op.Actor = "a\nb" }, "actor"},
		{"step without a name", func(op *Operation) { op.Steps[1].Name = "" }, "steps[1].name"},
		{"step in an unknown state", func(op *Operation) { op.Steps[0].State = "maybe" }, "steps[0].state"},
	}
	s := openTest(t, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := testOp(s.NewOpID(), "web", KindInstall)
			c.tune(&op)
			err := s.BeginOp(op)
			if err == nil {
				t.Fatal("got no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want it to match ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.field+":") {
				t.Errorf("got %q, want it to name the field %q", err, c.field)
			}
		})
	}
	if ops, err := s.Ops("web", 0); err != nil || len(ops) != 0 {
		t.Errorf("got %d operations (%v) after refused writes, want none", len(ops), err)
	}
}

func TestOneOpenOperationPerApp(t *testing.T) {
	clk := newClock()
	s := openTest(t, Options{Now: clk.Now})
	install := testOp(s.NewOpID(), "web", KindInstall)
	steps := []struct {
		name string
		call func() error
		want error
	}{
		{"begin install", func() error { return s.BeginOp(install) }, nil},
		{"begin start while installing", func() error { return s.BeginOp(testOp(s.NewOpID(), "web", KindStart)) }, ErrBusy},
		{"same id again", func() error {
			op := install
			op.App = "db"
			return s.BeginOp(op)
		}, ErrExists},
		{"another app", func() error { return s.BeginOp(testOp(s.NewOpID(), "db", KindInstall)) }, nil},
		{"finish install", func() error {
			op := install
			op.State = OpDone
			return s.UpdateOp(op)
		}, nil},
		{"an id that sorts before the install", func() error {
			return s.BeginOp(testOp("00000000000000000000000000", "web", KindStart))
		}, ErrInvalid},
		{"begin start after install", func() error { return s.BeginOp(testOp(s.NewOpID(), "web", KindStart)) }, nil},
	}
	for _, st := range steps {
		clk.Advance(time.Second)
		err := st.call()
		if !errors.Is(err, st.want) || (st.want == nil) != (err == nil) {
			t.Errorf("%s: got %v, want %v", st.name, err, st.want)
		}
	}
	open, err := s.OpenOps()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range open {
		got = append(got, op.App+":"+op.Kind)
	}
	if diff := cmp.Diff([]string{"db:install", "web:start"}, got); diff != "" {
		t.Errorf("OpenOps (-want +got):\n%s", diff)
	}
}

func TestBusyErrorNamesTheRunningOperation(t *testing.T) {
	s := openTest(t, Options{})
	first := testOp(s.NewOpID(), "web", KindUpdate)
	if err := s.BeginOp(first); err != nil {
		t.Fatal(err)
	}
	err := s.BeginOp(testOp(s.NewOpID(), "web", KindStop))
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("got %v, want ErrBusy", err)
	}
	for _, want := range []string{first.ID, "update", `"web"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to say %q", err, want)
		}
	}
}

func TestUpdateOp(t *testing.T) {
	clk := newClock()
	s := openTest(t, Options{Now: clk.Now})
	op := testOp(s.NewOpID(), "web", KindInstall)
	if err := s.BeginOp(op); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		tune      func(*Operation)
		want      error
		wantWrite bool
	}{
		{"no change", func(o *Operation) {}, nil, false},
		{"a step runs", func(o *Operation) { o.Steps[0].State, o.Steps[0].Started = StepRunning, t0 }, nil, true},
		{"same again", func(o *Operation) { o.Steps[0].State, o.Steps[0].Started = StepRunning, t0 }, nil, false},
		{"change the app", func(o *Operation) { o.App = "db" }, ErrInvalid, false},
		{"change the kind", func(o *Operation) { o.Kind = KindUpdate }, ErrInvalid, false},
		{"change the actor", func(o *Operation) { o.Actor = "someone" }, ErrInvalid, false},
		{"running but ended", func(o *Operation) { o.Ended = t0.Add(time.Hour) }, ErrInvalid, false},
		{"unknown id", func(o *Operation) { o.ID = "01ZZZZZZZZZZZZZZZZZZZZZZZZ" }, ErrNotFound, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cur, err := s.Op(op.ID)
			if err != nil {
				t.Fatal(err)
			}
			c.tune(&cur)
			before := writes(s)
			err = s.UpdateOp(cur)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, c.want)
			}
			if wrote := writes(s) > before; wrote != c.wantWrite {
				t.Errorf("got a file write %v, want %v", wrote, c.wantWrite)
			}
		})
	}

	clk.Advance(time.Minute)
	cur, err := s.Op(op.ID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Steps[0].State = StepFailed
	cur.State, cur.Error = OpFailed, strings.Repeat("é", MaxText) // 2 bytes each
	cur.Started = time.Time{}                                     // kept from the record
	if err := s.UpdateOp(cur); err != nil {
		t.Fatal(err)
	}
	got, err := s.Op(op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Started.Equal(t0) {
		t.Errorf("got started %v, want %v", got.Started, t0)
	}
	if want := t0.Add(time.Minute); !got.Ended.Equal(want) {
		t.Errorf("got ended %v, want %v", got.Ended, want)
	}
	if want := strings.Repeat("é", MaxText/2); got.Error != want {
		t.Errorf("got an error of %d bytes, want %d bytes cut on a rune boundary", len(got.Error), len(want))
	}
	got.State = OpRolledBack
	if err := s.UpdateOp(got); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "finished") {
		t.Errorf("changing a finished operation: got %v, want ErrInvalid saying it is finished", err)
	}
}

func TestOpsListing(t *testing.T) {
	clk := newClock()
	s := openTest(t, Options{Now: clk.Now})
	var ids []string
	for _, kind := range []string{KindInstall, KindStop, KindStart, KindUpdate} {
		op := testOp(s.NewOpID(), "web", kind)
		if err := s.BeginOp(op); err != nil {
			t.Fatal(err)
		}
		op.State = OpDone
		if err := s.UpdateOp(op); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, op.ID)
		clk.Advance(time.Second)
	}
	if err := s.BeginOp(testOp(s.NewOpID(), "webapp", KindInstall)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		app   string
		limit int
		want  []string
	}{
		{"all", "web", 0, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"two", "web", 2, []string{ids[3], ids[2]}},
		{"more than there are", "web", 10, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"an app with none", "db", 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops, err := s.Ops(c.app, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, op := range ops {
				got = append(got, op.ID)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Ops (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := s.Ops("Bad App", 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v, want ErrInvalid for a bad app id", err)
	}
	if _, err := s.Op("no/such"); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v, want ErrInvalid for a bad operation id", err)
	}
}

func TestOpReadsBackWhatWasWritten(t *testing.T) {
	s := openTest(t, Options{})
	op := testOp(s.NewOpID(), "web", KindUpdate)
	op.Started = t0.Add(-time.Minute)
	op.Steps[0] = Step{Name: "pull", State: StepDone, Started: t0.Add(-time.Minute), Ended: t0, Detail: "12 MB"}
	if err := s.BeginOp(op); err != nil {
		t.Fatal(err)
	}
	op.State = OpRunning
	got, err := s.Op(op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(op, got, equateEmpty); diff != "" {
		t.Errorf("Op (-want +got):\n%s", diff)
	}
}

func TestOldOperationsArePruned(t *testing.T) {
	s := openTest(t, Options{OpsPerApp: 3})
	var ids []string
	for range 5 {
		op := testOp(s.NewOpID(), "web", KindRestart)
		if err := s.BeginOp(op); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, op.ID)
		op.State = OpDone
		if err := s.UpdateOp(op); err != nil {
			t.Fatal(err)
		}
	}
	ops, err := s.Ops("web", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range ops {
		got = append(got, op.ID)
	}
	if diff := cmp.Diff([]string{ids[4], ids[3], ids[2]}, got); diff != "" {
		t.Errorf("Ops after pruning (-want +got):\n%s", diff)
	}
	if _, err := s.Op(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v, want the oldest operation gone", err)
	}
}
