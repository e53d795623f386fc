package engine

import "github.com/inkflow/inkflow/engine/store"

// An event that resolves a run's wait (on arrival, or found by the wait's look-back) is
// recorded in event_resumes (store.Resume), so the events page and GET /api/events can say
// which runs an event resumed beside the runs it started.

// resumedBy returns, for each of eventIDs that resumed a run, the ids of those runs in the
// order they were resumed. One query for the whole page.
func resumedBy(q *store.Q, eventIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	rows, err := q.ResumesOf(eventIDs)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if ids := out[r.EventID]; len(ids) == 0 || ids[len(ids)-1] != r.RunID {
			out[r.EventID] = append(ids, r.RunID)
		}
	}
	return out, nil
}
