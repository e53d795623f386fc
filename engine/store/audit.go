package store

import "fmt"

// The statements of the engine's audit (engine/audit.go): read-only checks of what the
// database holds after a load, for the reliability and system tests and for operators.

// RunTally counts the runs of events named names and the events of those names without a
// run or with more than one.
type RunTally struct {
	Runs, Completed, Finished            int
	EventsWithoutRun, EventsWithManyRuns int
}

// TallyRuns returns the RunTally of the events named names.
func (q *Q) TallyRuns(names []string) (RunTally, error) {
	var t RunTally
	err := q.g.Raw(`SELECT COUNT(*) AS runs,
			COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS completed,
			COALESCE(SUM(CASE WHEN status IN ('completed', 'failed', 'cancelled') THEN 1 ELSE 0 END), 0) AS finished
		FROM runs WHERE event_name IN ?`, names).Scan(&t).Error
	if err != nil {
		return t, fmt.Errorf("tally runs: %w", err)
	}
	if err := q.g.Raw(`SELECT COUNT(*) FROM events e WHERE e.name IN ? AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.event_id = e.id)`,
		names).Scan(&t.EventsWithoutRun).Error; err != nil {
		return t, fmt.Errorf("tally events without a run: %w", err)
	}
	if err := q.g.Raw(`SELECT COUNT(*) FROM (SELECT event_id FROM runs WHERE event_name IN ? GROUP BY event_id HAVING COUNT(*) > 1) x`,
		names).Scan(&t.EventsWithManyRuns).Error; err != nil {
		return t, fmt.Errorf("tally events with many runs: %w", err)
	}
	return t, nil
}

// StepRecord is a step with its run's event.
type StepRecord struct {
	RunID, StepID, Status string
	Attempts              int
	StartedAt, EndedAt    *int64
	Output                *string
	Event                 string
}

// StepRecords returns the steps of the runs of function fnID (every function when empty) whose
// status is status (any when empty) and whose id is one of ids (any when empty).
func (q *Q) StepRecords(fnID, status string, ids []string) ([]StepRecord, error) {
	sel := q.g.Table("steps s").Select("s.run_id, s.id AS step_id, s.status, s.attempts, s.started_at, s.ended_at, s.output, r.event").
		Joins("JOIN runs r ON r.id = s.run_id")
	if fnID != "" {
		sel = sel.Where("r.function_id = ?", fnID)
	}
	if status != "" {
		sel = sel.Where("s.status = ?", status)
	}
	if len(ids) > 0 {
		sel = sel.Where("s.id IN ?", ids)
	}
	var out []StepRecord
	if err := sel.Order("s.run_id, s.id").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("step records: %w", err)
	}
	return out, nil
}

// RunCensus is a number of runs of one function, trigger event and status.
type RunCensus struct {
	FunctionID, EventName, Status string
	N                             int
}

// CensusRuns counts every run by function, event name and status.
func (q *Q) CensusRuns() ([]RunCensus, error) {
	var out []RunCensus
	if err := q.g.Raw(`SELECT function_id, event_name, status, COUNT(*) AS n FROM runs GROUP BY function_id, event_name, status ORDER BY 1, 2, 3`).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("run census: %w", err)
	}
	return out, nil
}

// LeaseHolders counts the runs held under a lease (running or not) by lease owner.
func (q *Q) LeaseHolders() (map[string]int, error) {
	var rows []struct {
		LeaseOwner, Status string
		N                  int
	}
	if err := q.g.Raw(`SELECT lease_owner, status, COUNT(*) AS n FROM runs WHERE lease_owner <> '' GROUP BY lease_owner, status`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("lease holders: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.LeaseOwner] += r.N
	}
	return out, nil
}

// CountEventsNamed counts the stored events named name (every event when empty).
func (q *Q) CountEventsNamed(name string) (int, error) {
	sel := q.g.Model(&Event{})
	if name != "" {
		sel = sel.Where("name = ?", name)
	}
	var n int64
	if err := sel.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return int(n), nil
}

// CountCancelRegistrations counts the rows of waits that cancel a run on an event.
func (q *Q) CountCancelRegistrations() (int, error) {
	var n int64
	if err := q.g.Raw(`SELECT COUNT(*) FROM waits WHERE kind = 'cancel'`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count cancel registrations: %w", err)
	}
	return int(n), nil
}

// CountWaits counts the registered waits for events (not sleeps or invokes).
func (q *Q) CountWaits() (int, error) {
	var n int64
	if err := q.g.Raw(`SELECT COUNT(*) FROM waits WHERE kind = 'wait'`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count waits: %w", err)
	}
	return int(n), nil
}

// CountCronTicksWithRuns counts the recorded ticks of cron keys starting with prefix that
// started runs (a schedule's first sighting records a tick without one).
func (q *Q) CountCronTicksWithRuns(prefix string) (int, error) {
	var n int64
	if err := q.g.Raw(`SELECT COUNT(*) FROM cron_ticks WHERE function_id LIKE ? AND run_id <> ''`, prefix+"%").Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count cron ticks: %w", err)
	}
	return int(n), nil
}

// AllRuns returns every run matching f with its event, oldest first. It reads them all:
// for checks after a bounded load.
func (q *Q) AllRuns(f RunFilter) ([]Run, error) {
	var rows []Run
	if err := f.apply(q.g.Model(&Run{})).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("all runs: %w", err)
	}
	return rows, nil
}
