package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
)

// Function ids of the runner's engine functions (runs refer to them).
const (
	RunnerFunctionID = "workflow-runner"
	CronFunctionID   = "workflow-cron"
)

// maxEventsPerStep bounds one SendEvent step of the cron scheduler.
const maxEventsPerStep = 100

// Runner connects stored workflows to the engine: one function runs every workflow (the
// event's Fanout picks the enabled workflows whose trigger is the event's name, one run each,
// pinned to their current version), and one cron function sends a scheduled event for each
// enabled workflow whose cron schedule ticked.
type Runner struct {
	store  *Store
	walker *Walker
	keys   keyExprs
	needs  versionNeeds
}

// NewRunner returns the runner for the workflows in store.
func NewRunner(store *Store) *Runner {
	return &Runner{store: store, walker: &Walker{Registry: store.reg}}
}

// Functions returns the engine functions to register: the workflow runner and the scheduler.
func (r *Runner) Functions() []*engine.Function {
	return []*engine.Function{
		{
			ID:       RunnerFunctionID,
			Name:     "Workflows",
			Triggers: []engine.Trigger{{Event: "*"}},
			Fanout:   r.Fanout,
			Handler:  r.Handle,
			// A run needs the action kinds of its version: during a rolling deploy only a
			// process that has them all claims it (the others leave it waiting, labelled).
			Provides: r.provides,
			// A workflow's concurrency key (a CEL expression over the event) lets one run per
			// key value execute at a time; workflows without one are not limited.
			Flow: engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1, KeyedOnly: true}}},
		},
		{
			ID:       CronFunctionID,
			Name:     "Workflow schedules",
			Triggers: []engine.Trigger{{Cron: "* * * * *"}},
			// A minute in which no scheduled workflow is due starts no run at all, so the
			// runs list is not a column of empty ticks.
			Fanout: func(ctx context.Context, tx engine.Tx, ev engine.Event) ([]engine.RunMeta, error) {
				due, err := dueCronIn(ctx, r.store.inTx(ctx, tx), cronTick(ev))
				if err != nil || len(due) == 0 {
					return nil, err
				}
				return []engine.RunMeta{{}}, nil
			},
			Handler: r.Tick,
		},
	}
}

// Fanout runs inside the transaction that stores ev and returns one RunMeta per enabled
// workflow the event starts: those whose trigger is ev.Name, or for ScheduledEvent the one
// workflow named in its data.
func (r *Runner) Fanout(ctx context.Context, tx engine.Tx, ev engine.Event) ([]engine.RunMeta, error) {
	q := r.store.inTx(ctx, tx).Model(&workflowRow{}).Select("id", "version", "concurrency_key").
		Where("enabled AND deleted_at IS NULL")
	if ev.Name == ScheduledEvent {
		id, ok := int64Of(ev.Data["workflow_id"])
		if !ok {
			return nil, nil
		}
		q = q.Where(`id = ? AND "trigger" LIKE ?`, id, CronPrefix+"%")
	} else {
		q = q.Where(`"trigger" = ? AND "trigger" NOT LIKE ?`, ev.Name, CronPrefix+"%")
	}
	var rows []workflowRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("workflows for event %q: %w", ev.Name, err)
	}
	metas := make([]engine.RunMeta, 0, len(rows))
	for _, row := range rows {
		meta := engine.RunMeta{WorkflowID: row.ID, WorkflowVersion: row.Version}
		needs, err := r.needs.of(r.store.inTx(ctx, tx), row.ID, row.Version)
		if err != nil {
			return nil, err
		}
		meta.Needs = needs
		if row.ConcurrencyKey != "" {
			v, err := r.keys.eval(row.ConcurrencyKey, ev)
			if err != nil {
				// An event the expression cannot read (a missing field) runs under an empty
				// value rather than being dropped: it is still limited, with its peers.
				v = ""
			}
			meta.ConcurrencyKey = fmt.Sprintf("wf%d:%s", row.ID, v)
		}
		metas = append(metas, meta)
	}
	return metas, nil
}

// kindNeed is how a run's need of an action kind is named (engine.RunMeta.Needs).
func kindNeed(kind string) string { return "kind:" + kind }

// provides lists the kinds registered in this process, as needs.
func (r *Runner) provides() []string {
	kinds := r.store.reg.Kinds()
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = kindNeed(k.Name)
	}
	return out
}

// versionNeeds caches the needs of workflow versions (a saved version never changes).
type versionNeeds struct {
	mu sync.Mutex
	by map[[2]int64][]string
}

// maxCachedVersions bounds versionNeeds; past it the cache starts again.
const maxCachedVersions = 4096

// of returns the needs of workflow id's version, reading it through db when not cached.
func (n *versionNeeds) of(db *gorm.DB, id int64, version int) ([]string, error) {
	key := [2]int64{id, int64(version)}
	n.mu.Lock()
	needs, ok := n.by[key]
	n.mu.Unlock()
	if ok {
		return needs, nil
	}
	var row versionRow
	if err := db.Where("workflow_id = ? AND version = ?", id, version).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil // the run fails on its own, saying the version is gone
		}
		return nil, fmt.Errorf("load workflow %d version %d: %w", id, version, err)
	}
	v, err := row.version()
	if err != nil {
		return nil, nil // a definition that does not decode fails the run when it starts
	}
	seen := map[string]bool{}
	for _, a := range v.Workflow.Actions {
		if !seen[a.Kind] {
			seen[a.Kind] = true
			needs = append(needs, kindNeed(a.Kind))
		}
	}
	n.mu.Lock()
	if n.by == nil || len(n.by) >= maxCachedVersions {
		n.by = map[[2]int64][]string{}
	}
	n.by[key] = needs
	n.mu.Unlock()
	return needs, nil
}

// keyExprs compiles and caches workflows' concurrency-key expressions.
type keyExprs struct {
	mu    sync.Mutex
	progs map[string]cel.Program
}

// eval returns the text of src's value over the event (as `event`).
func (k *keyExprs) eval(src string, ev engine.Event) (string, error) {
	k.mu.Lock()
	p, ok := k.progs[src]
	if !ok {
		env, err := cel.NewEnv(cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)))
		if err != nil {
			k.mu.Unlock()
			return "", err
		}
		ast, iss := env.Compile(src)
		if iss != nil && iss.Err() != nil {
			k.mu.Unlock()
			return "", iss.Err()
		}
		if p, err = env.Program(ast); err != nil {
			k.mu.Unlock()
			return "", err
		}
		if k.progs == nil || len(k.progs) > 256 {
			k.progs = map[string]cel.Program{}
		}
		k.progs[src] = p
	}
	k.mu.Unlock()
	b, err := json.Marshal(ev)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	out, _, err := p.Eval(map[string]any{"event": m})
	if err != nil {
		return "", err
	}
	return fmt.Sprint(out.Value()), nil
}

// Handle runs one workflow run: it loads the version the run pinned and walks it. Its output
// is the Result (state and skipped actions).
func (r *Runner) Handle(ctx context.Context, in *engine.Input) (any, error) {
	meta := in.Run.Meta
	if meta.WorkflowID == 0 {
		return nil, engine.NonRetriable(errors.New("run has no workflow: it was not started by the workflow loader"))
	}
	v, err := r.store.Version(ctx, meta.WorkflowID, meta.WorkflowVersion)
	if err != nil {
		if engine.ErrorCode(err) == engine.ENotFound {
			return nil, engine.NonRetriable(err)
		}
		return nil, err
	}
	if missing := r.missingKinds(v.Workflow); len(missing) > 0 {
		return nil, engine.NonRetriable(engine.Errorf(engine.EInvalid, "workflow %d version %d uses action kinds this server does not have: %s",
			meta.WorkflowID, meta.WorkflowVersion, strings.Join(missing, ", ")))
	}
	return r.walker.Run(ctx, in, v.Workflow)
}

// missingKinds lists the kinds wf uses that are not registered (a kind removed since the
// version was saved): such a run fails at once rather than half-way.
func (r *Runner) missingKinds(wf *Workflow) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range wf.Actions {
		if _, ok := r.store.reg.Kind(a.Kind); !ok && !seen[a.Kind] {
			seen[a.Kind] = true
			out = append(out, a.Kind)
		}
	}
	return out
}

// Tick is the scheduler: for the minute the cron run stands for, it sends ScheduledEvent for
// each enabled cron workflow whose schedule fired within it, with event id
// "wf-<id>-<tick unix seconds>" so a repeated tick starts nothing twice.
func (r *Runner) Tick(ctx context.Context, in *engine.Input) (any, error) {
	tick := cronTick(in.Event)
	due, err := r.store.dueCron(ctx, tick)
	if err != nil {
		return nil, err
	}
	sent := []string{}
	for i := 0; i < len(due); i += maxEventsPerStep {
		batch := due[i:min(i+maxEventsPerStep, len(due))]
		ids, err := in.Step.SendEvent(ctx, "schedule-"+strconv.Itoa(i/maxEventsPerStep+1), batch...)
		if err != nil {
			return nil, err
		}
		sent = append(sent, ids...)
	}
	return map[string]any{"tick": tick.Format(time.RFC3339), "events": sent}, nil
}

// dueCron returns a ScheduledEvent for each enabled cron workflow with a tick in
// (tick-1m, tick].
func (s *Store) dueCron(ctx context.Context, tick time.Time) ([]engine.Event, error) {
	return dueCronIn(ctx, s.db, tick)
}

// dueCronIn is dueCron over db (a transaction, inside a Fanout).
func dueCronIn(ctx context.Context, db *gorm.DB, tick time.Time) ([]engine.Event, error) {
	var rows []workflowRow
	err := db.WithContext(ctx).Select("id", "trigger").
		Where(`enabled AND deleted_at IS NULL AND "trigger" LIKE ?`, CronPrefix+"%").
		Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list scheduled workflows: %w", err)
	}
	var out []engine.Event
	for _, row := range rows {
		sched, err := engine.ParseCron(cronSpec(row.Trigger))
		if err != nil {
			continue // refused on save; a schedule the parser no longer reads never fires
		}
		at := sched.Next(tick.Add(-time.Minute))
		if at.IsZero() || at.After(tick) {
			continue
		}
		out = append(out, engine.Event{
			ID:   fmt.Sprintf("wf-%d-%d", row.ID, at.Unix()),
			Name: ScheduledEvent,
			Data: map[string]any{"workflow_id": row.ID, "tick": at.UTC().Format(time.RFC3339)},
		})
	}
	return out, nil
}

// int64Of reads an id from event data, whichever way it was decoded.
func int64Of(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case int:
		return int64(t), true
	case float64:
		return int64(t), t == float64(int64(t))
	case json.Number:
		n, err := t.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// cronTick is the minute a cron run stands for: the engine's data.tick, else the event time.
func cronTick(ev engine.Event) time.Time {
	if s, ok := ev.Data["tick"].(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC().Truncate(time.Minute)
		}
	}
	if ev.TS != 0 {
		return time.UnixMilli(ev.TS).UTC().Truncate(time.Minute)
	}
	return time.Now().UTC().Truncate(time.Minute)
}
