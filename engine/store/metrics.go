package store

import "fmt"

// What the metrics and the System page read. Event and run ids are UUIDv7, so a window of
// time is a primary-key range [lo, hi).

// CountEvents counts the events with ids in [lo, hi).
func (q *Q) CountEvents(lo, hi string) (int64, error) {
	var n int64
	if err := q.g.Raw(`SELECT COUNT(*) FROM events WHERE id >= ? AND id < ?`, lo, hi).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// FunctionCount is a number of runs of a function (in a status).
type FunctionCount struct {
	FunctionID string
	Status     string
	N          int64
}

// RunsCreated counts the runs with ids in [lo, hi) by function.
func (q *Q) RunsCreated(lo, hi string) ([]FunctionCount, error) {
	var rows []FunctionCount
	if err := q.g.Raw(`SELECT function_id, COUNT(*) AS n FROM runs WHERE id >= ? AND id < ? GROUP BY function_id`, lo, hi).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count started runs: %w", err)
	}
	return rows, nil
}

// RunsEnded counts the runs that ended in (from, to] by function and status.
func (q *Q) RunsEnded(from, to int64) ([]FunctionCount, error) {
	var rows []FunctionCount
	if err := q.g.Raw(`SELECT function_id, status, COUNT(*) AS n FROM runs WHERE ended_at > ? AND ended_at <= ? GROUP BY function_id, status`,
		from, to).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count finished runs: %w", err)
	}
	return rows, nil
}

// StepTiming is a completed Run step of a run that ended: its function, its times and, for
// steps that record model usage, its output.
type StepTiming struct {
	FunctionID         string
	StartedAt, EndedAt int64
	Output             *string
}

// StepTimings returns the completed Run steps of the runs that ended in (from, to].
func (q *Q) StepTimings(from, to int64) ([]StepTiming, error) {
	var rows []StepTiming
	// Only AI steps' outputs are read (they carry "total_tokens"); the rest stay in the table.
	err := q.g.Raw(`SELECT r.function_id, s.started_at, s.ended_at,
			CASE WHEN s.output LIKE '%"total_tokens"%' THEN s.output END AS output
		FROM runs r JOIN steps s ON s.run_id = r.id
		WHERE r.ended_at > ? AND r.ended_at <= ? AND s.kind = 'run' AND s.status = 'completed'
			AND s.started_at IS NOT NULL AND s.ended_at IS NOT NULL`, from, to).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read step timings: %w", err)
	}
	return rows, nil
}

// LiveRuns counts the unfinished runs by status.
func (q *Q) LiveRuns() (map[string]int64, error) {
	var rows []FunctionCount
	if err := q.g.Raw(`SELECT status, COUNT(*) AS n FROM runs WHERE status IN ` + liveStatuses + ` GROUP BY status`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count live runs: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// QueueDepth counts the runs due at now that no worker holds and returns the earliest due
// time among them (nil when none).
func (q *Q) QueueDepth(now int64) (int64, *int64, error) {
	var row struct {
		N      int64
		Oldest *int64
	}
	err := q.g.Raw(`SELECT COUNT(*) AS n, MIN(due_at) AS oldest FROM runs
		WHERE (status IN ('queued', 'sleeping', 'waiting') AND due_at <= ?) OR (status = 'running' AND lease_until < ?)`,
		now, now).Scan(&row).Error
	if err != nil {
		return 0, nil, fmt.Errorf("read the queue: %w", err)
	}
	return row.N, row.Oldest, nil
}

// Worker is a row of workers.
type Worker struct {
	ID                     string
	StartedAt, HeartbeatAt int64
	Running, Capacity      int
}

// WorkerTotals counts the workers that heartbeated at or after since, with their busy and
// total slots.
func (q *Q) WorkerTotals(since int64) (n, busy, slots int64, err error) {
	var w struct {
		N, Busy, Slots int64
	}
	if err := q.g.Raw(`SELECT COUNT(*) AS n, COALESCE(SUM(running), 0) AS busy, COALESCE(SUM(capacity), 0) AS slots
		FROM workers WHERE heartbeat_at >= ?`, since).Scan(&w).Error; err != nil {
		return 0, 0, 0, fmt.Errorf("count workers: %w", err)
	}
	return w.N, w.Busy, w.Slots, nil
}

// Workers lists the workers, newest heartbeat first.
func (q *Q) Workers() ([]Worker, error) {
	var rows []Worker
	if err := q.g.Raw(`SELECT id, started_at, heartbeat_at, running, capacity FROM workers ORDER BY heartbeat_at DESC, id`).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return rows, nil
}

// RecordWorker records that worker id is alive at now with running runs in hand, and, when
// registry is not nil, what it registers (functions and capabilities, JSON).
func (q *Q) RecordWorker(id string, now int64, running, capacity int, registry *string) error {
	reg, set := "", ""
	if registry != nil {
		reg, set = *registry, ", registry = excluded.registry"
	}
	err := q.g.Exec(`INSERT INTO workers (id, started_at, heartbeat_at, running, capacity, registry) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, running = excluded.running`+set,
		id, now, now, running, capacity, reg).Error
	if err != nil {
		return fmt.Errorf("record worker: %w", err)
	}
	return nil
}

// Registry is what a live worker registers.
type Registry struct {
	ID       string
	Registry string
}

// LiveRegistries returns the registries of the workers that heartbeated at or after since,
// except worker except, in id order.
func (q *Q) LiveRegistries(since int64, except string) ([]Registry, error) {
	var rows []Registry
	if err := q.g.Raw(`SELECT id, registry FROM workers WHERE heartbeat_at >= ? AND id <> ? AND registry <> '' ORDER BY id`, since, except).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the registry of live workers: %w", err)
	}
	return rows, nil
}

// DeleteWorker removes worker id (it stopped cleanly).
func (q *Q) DeleteWorker(id string) error {
	if err := q.g.Exec(`DELETE FROM workers WHERE id = ?`, id).Error; err != nil {
		return fmt.Errorf("remove worker: %w", err)
	}
	return nil
}
