package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// The audit: read-only checks of what the database holds, for the reliability and system
// tests (which prove the engine's promises after loads, crashes and restarts) and for
// operators. Nothing outside the engine reads its tables; these are the questions they ask.

// RunTally counts the runs of a set of trigger events: Runs in all, Completed, Finished
// (completed, failed or cancelled), and the events of those names with no run or with more
// than one (each should have exactly one when one function triggers on them).
type RunTally struct {
	Runs, Completed, Finished            int
	EventsWithoutRun, EventsWithManyRuns int
}

// TallyRuns returns the RunTally of the events named names.
func (e *Engine) TallyRuns(ctx context.Context, names ...string) (RunTally, error) {
	t, err := e.st.Q(ctx).TallyRuns(names)
	return RunTally(t), err
}

// StepRecord is a stored step with its run's event, for checks over many runs.
type StepRecord struct {
	RunID, StepID, Status string
	Attempts              int
	StartedAt, EndedAt    *time.Time
	Output                json.RawMessage
	// Event is the run's event.
	Event Event
}

// StepRecordFilter selects steps for StepRecords; zero fields match everything.
type StepRecordFilter struct {
	FunctionID string
	Status     string
	StepIDs    []string
}

// StepRecords returns the steps f selects, ordered by run and step id. It reads them all:
// meant for checks after a bounded load, not for pages.
func (e *Engine) StepRecords(ctx context.Context, f StepRecordFilter) ([]StepRecord, error) {
	rows, err := e.st.Q(ctx).StepRecords(f.FunctionID, f.Status, f.StepIDs)
	if err != nil {
		return nil, err
	}
	out := make([]StepRecord, len(rows))
	for i, r := range rows {
		out[i] = StepRecord{RunID: r.RunID, StepID: r.StepID, Status: r.Status, Attempts: r.Attempts,
			StartedAt: fromMSPtr(r.StartedAt), EndedAt: fromMSPtr(r.EndedAt)}
		if r.Output != nil {
			out[i].Output = json.RawMessage(*r.Output)
		}
		_ = json.Unmarshal([]byte(r.Event), &out[i].Event) // stored by the engine: valid
	}
	return out, nil
}

// RunCensus is how many runs of one function, trigger event and status there are.
type RunCensus = store.RunCensus

// CensusRuns counts every run by function, event name and status (for failure messages and
// reports: one row per combination, ordered).
func (e *Engine) CensusRuns(ctx context.Context) ([]RunCensus, error) {
	return e.st.Q(ctx).CensusRuns()
}

// LeaseHolders counts the runs each worker holds under a lease (WorkerID -> runs); a worker
// that stopped cleanly holds none.
func (e *Engine) LeaseHolders(ctx context.Context) (map[string]int, error) {
	return e.st.Q(ctx).LeaseHolders()
}

// CountEvents counts the stored events named name (every event when empty).
func (e *Engine) CountEvents(ctx context.Context, name string) (int, error) {
	return e.st.Q(ctx).CountEventsNamed(name)
}

// CountWaits counts the runs' registered waits for an event (sleeps and invokes not counted):
// rows, not memory, are what 100,000 waiting runs cost.
func (e *Engine) CountWaits(ctx context.Context) (int, error) {
	return e.st.Q(ctx).CountWaits()
}

// CountCancelRegistrations counts the runs' registered cancel events (CancelOn).
func (e *Engine) CountCancelRegistrations(ctx context.Context) (int, error) {
	return e.st.Q(ctx).CountCancelRegistrations()
}

// CountCronTicks counts the ticks of function fnID's schedules that started runs.
func (e *Engine) CountCronTicks(ctx context.Context, fnID string) (int, error) {
	return e.st.Q(ctx).CountCronTicksWithRuns(fnID + "#")
}

// AllRuns returns every run f selects (Limit and Cursor ignored), oldest first, with its
// event, which ListRuns leaves out. It reads them all: for checks after a bounded load, not
// for pages.
func (e *Engine) AllRuns(ctx context.Context, f RunFilter) ([]Run, error) {
	rows, err := e.st.Q(ctx).AllRuns(f.stored())
	if err != nil {
		return nil, err
	}
	out := make([]Run, len(rows))
	for i, r := range rows {
		out[i] = toRun(r, true)
	}
	return out, nil
}
