package engine

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// committer is the engine's group commit. Executions hand it their plain step records and
// run completions and wait for the answer; it writes whatever has queued up meanwhile in one
// transaction with multi-row statements, so a thousand runs finishing a step at once cost a
// handful of statements and one commit instead of a thousand. Nothing is acknowledged before
// it is committed: "committed before the handler goes on" holds for every step.
type committer struct {
	e    *Engine
	reqs chan *commitReq
}

type commitReq struct {
	step   *stepRow   // a step record to store, or
	finish *finishRec // a run's successful end
	done   chan error
}

type finishRec struct {
	runID  string
	output *string
	// dropWaits: the run may have wait or cancel rows to delete (it registered CancelOn or
	// waited); most runs have none, and the delete is skipped for them.
	dropWaits bool
}

// maxGroup bounds one group commit.
const maxGroup = 500

func newCommitter(e *Engine) *committer {
	return &committer{e: e, reqs: make(chan *commitReq, 4*maxGroup)}
}

// do queues r and waits until it is committed (nil) or refused (errLeaseLost, or the error
// that made its transaction fail).
func (c *committer) do(r *commitReq) error {
	r.done = make(chan error, 1)
	c.reqs <- r
	return <-r.done
}

// loop commits groups until ctx is done. Each group is what queued while the previous one was
// being written, so the group size adapts to load without any added wait.
func (c *committer) loop(ctx context.Context) {
	for {
		var first *commitReq
		select {
		case first = <-c.reqs:
		case <-ctx.Done():
			return
		}
		group := []*commitReq{first}
	fill:
		for len(group) < maxGroup {
			select {
			case r := <-c.reqs:
				group = append(group, r)
			default:
				break fill
			}
		}
		c.commit(group)
	}
}

// commit writes a group; if the group's transaction fails, each request is retried alone so
// that one bad record cannot sink the others.
func (c *committer) commit(group []*commitReq) {
	results, err := c.write(group)
	if err == nil {
		for i, r := range group {
			r.done <- results[i]
		}
		return
	}
	if len(group) == 1 {
		group[0].done <- err
		return
	}
	for _, r := range group {
		res, err := c.write([]*commitReq{r})
		if err != nil {
			r.done <- err
		} else {
			r.done <- res[0]
		}
	}
}

// write stores the group in one transaction and returns each request's outcome.
func (c *committer) write(group []*commitReq) ([]error, error) {
	e := c.e
	now := ms(e.now())
	var stepRuns []string
	var steps []stepRow
	var fins []*finishRec
	for _, r := range group {
		if r.step != nil {
			stepRuns = append(stepRuns, r.step.RunID)
		} else {
			fins = append(fins, r.finish)
		}
	}
	owned := map[string]bool{}
	ended := map[string]bool{}
	err := e.tx(context.Background(), func(tx *gorm.DB) error {
		if len(stepRuns) > 0 {
			// Prove ownership without writing the run row: a shared row lock holds off a
			// concurrent cancel until this commit is done, and heartbeats extend leases.
			lock := ""
			if e.pg {
				lock = " FOR SHARE"
			}
			var ids []string
			err := tx.Raw(`SELECT id FROM runs WHERE id IN ? AND lease_owner = ? AND status = 'running'`+lock,
				stepRuns, e.opts.WorkerID).Scan(&ids).Error
			if err != nil {
				return fmt.Errorf("check leases: %w", err)
			}
			for _, id := range ids {
				owned[id] = true
			}
			for _, r := range group {
				if r.step != nil && owned[r.step.RunID] {
					steps = append(steps, *r.step)
				}
			}
			if len(steps) > 0 {
				if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&steps).Error; err != nil {
					return fmt.Errorf("store steps: %w", err)
				}
			}
		}
		if len(fins) > 0 {
			ids, err := completeRuns(tx, fins, now, e.opts.WorkerID)
			if err != nil {
				return err
			}
			var drop []string
			for _, id := range ids {
				ended[id] = true
			}
			for _, f := range fins {
				if f.dropWaits && ended[f.runID] {
					drop = append(drop, f.runID)
				}
			}
			if len(drop) > 0 {
				if err := tx.Exec(`DELETE FROM waits WHERE run_id IN ?`, drop).Error; err != nil {
					return fmt.Errorf("drop waits: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]error, len(group))
	for i, r := range group {
		switch {
		case r.step != nil && !owned[r.step.RunID]:
			out[i] = errLeaseLost
		case r.finish != nil && !ended[r.finish.runID]:
			out[i] = errLeaseLost
		}
	}
	return out, nil
}

// completeRuns marks runs completed with their outputs in one statement and returns the ids
// this worker still owned.
func completeRuns(tx *gorm.DB, fins []*finishRec, now int64, owner string) ([]string, error) {
	values := make([]string, len(fins))
	args := make([]any, 0, 2*len(fins)+3)
	for i, f := range fins {
		values[i] = "(?, ?)"
		args = append(args, f.runID, f.output)
	}
	args = append(args, now, now, owner)
	var ids []string
	// UPDATE ... FROM joins the values once (a correlated subquery per row would compare every
	// pair); both PostgreSQL and SQLite (3.33+) support it.
	err := tx.Raw(`WITH v(id, output) AS (VALUES `+strings.Join(values, ", ")+`)
		UPDATE runs SET status = 'completed', output = v.output, error = '',
			ended_at = ?, updated_at = ?, lease_owner = '', lease_until = 0
		FROM v WHERE runs.id = v.id AND runs.lease_owner = ? AND runs.status = 'running' RETURNING runs.id`, args...).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("complete runs: %w", err)
	}
	return ids, nil
}
