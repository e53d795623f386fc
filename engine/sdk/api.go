package sdk

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"

	"github.com/inkflow/inkflow/engine"
)

// The two /v0 endpoints an inngest-js app calls when a call was too large to carry its memo
// (ctx.use_api): GET /v0/runs/{id}/batch (the run's events) and /actions (its steps' memo).

// RunEvents returns the events of run id as the app expects them (authorization: the SDK's
// bearer, checked in signed mode). Only runs of synced functions are answered (ENotFound).
func (r *Registry) RunEvents(ctx context.Context, runID, authorization string) ([]CallEvent, error) {
	run, err := r.appRun(ctx, runID, authorization)
	if err != nil {
		return nil, err
	}
	var ev engine.Event
	if err := json.Unmarshal(run.Event, &ev); err != nil {
		return nil, fmt.Errorf("decode the event of run %s: %w", runID, err)
	}
	return []CallEvent{present(ev)}, nil
}

// RunSteps returns the memo of run id's steps that ended, keyed by step id.
func (r *Registry) RunSteps(ctx context.Context, runID, authorization string) (map[string]json.RawMessage, error) {
	run, err := r.appRun(ctx, runID, authorization)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for _, s := range run.Steps {
		st := engine.StoredStep{ID: s.ID, Name: s.Name, Kind: s.Kind, Status: s.Status, Attempts: s.Attempts,
			Output: s.Output, Error: s.Error, StartedAt: s.StartedAt, EndedAt: s.EndedAt}
		if m, ok := memo(st); ok {
			out[s.ID] = m
		}
	}
	return out, nil
}

func (r *Registry) appRun(ctx context.Context, runID, authorization string) (*engine.Run, error) {
	if !r.cfg.Dev {
		key, err := r.signingKey(ctx, false)
		if err != nil {
			return nil, err
		}
		if key == "" || subtle.ConstantTimeCompare([]byte(authorization), []byte("Bearer "+HashedKey(key))) != 1 {
			return nil, engine.Errorf(engine.EUnauthorized, "the signing key is not inkflow's")
		}
	}
	run, err := r.cfg.Engine.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	ours := r.fnIDs[run.FunctionID]
	r.mu.Unlock()
	if !ours {
		return nil, engine.Errorf(engine.ENotFound, "run %s not found", runID)
	}
	return run, nil
}
