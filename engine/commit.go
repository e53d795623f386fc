package engine

import (
	"context"

	"github.com/inkflow/inkflow/engine/store"
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
	err := e.st.Tx(context.Background(), func(q *store.Q) error {
		if len(stepRuns) > 0 {
			ids, err := q.OwnedRunning(stepRuns, e.opts.WorkerID)
			if err != nil {
				return err
			}
			for _, id := range ids {
				owned[id] = true
			}
			for _, r := range group {
				if r.step != nil && owned[r.step.RunID] {
					steps = append(steps, *r.step)
				}
			}
			if err := q.UpsertSteps(steps); err != nil {
				return err
			}
		}
		if len(fins) > 0 {
			done := make([]store.Completion, len(fins))
			for i, f := range fins {
				done[i] = store.Completion{RunID: f.runID, Output: f.output}
			}
			ids, err := q.CompleteRuns(done, now, e.opts.WorkerID)
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
			return q.DeleteWaitsOf(drop)
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
