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
	flows  flowCache
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
// workflow the event starts: those with an event trigger named ev.Name whose `if` holds (one
// run however many of its triggers match), or for ScheduledEvent the one workflow named in
// its data. A workflow with a flow control config gives its runs their own engine.Flow. A
// workflow whose trigger conditions are all false gets a RunMeta with Skip (engine.ReasonIf):
// no run, and the event's decisions say why.
func (r *Runner) Fanout(ctx context.Context, tx engine.Tx, ev engine.Event) ([]engine.RunMeta, error) {
	// Plain SQL on the sending transaction: every event pays this lookup (the runner's trigger
	// is "*"), and building it through gorm cost more than running it.
	query, arg := fanoutByEvent, any(ev.Name)
	if ev.Name == ScheduledEvent {
		id, ok := int64Of(ev.Data["workflow_id"])
		if !ok {
			return nil, nil
		}
		query, arg = fanoutByID, id
	}
	if r.store.postgres {
		query = strings.Replace(query, "?", "$1", 1)
	}
	rows, err := scanFanout(ctx, tx, query, arg)
	if err != nil {
		return nil, fmt.Errorf("workflows for event %q: %w", ev.Name, err)
	}
	metas := make([]engine.RunMeta, 0, len(rows))
	var event map[string]any // the event as CEL sees it, built once if an expression needs it
	lazyEvent := func() map[string]any {
		if event == nil {
			event = celEvent(ev)
		}
		return event
	}
	for i := 0; i < len(rows); {
		// rows come by workflow: the workflow starts one run if any of its matching triggers'
		// conditions holds, and otherwise its start is recorded as skipped (reason "if").
		row, holds := rows[i], false
		for ; i < len(rows) && rows[i].ID == row.ID; i++ {
			if !holds && (rows[i].IfExpr == "" || triggerHolds(rows[i].IfExpr, lazyEvent())) {
				holds = true
			}
		}
		if !holds {
			metas = append(metas, engine.RunMeta{WorkflowID: row.ID, WorkflowVersion: row.Version, Skip: engine.ReasonIf})
			continue
		}
		meta := engine.RunMeta{WorkflowID: row.ID, WorkflowVersion: row.Version}
		needs, err := r.needs.of(r.store.inTx(ctx, tx), row.ID, row.Version)
		if err != nil {
			return nil, err
		}
		meta.Needs = needs
		if row.ConcurrencyKey != "" {
			v, err := evalKey(row.ConcurrencyKey, lazyEvent())
			if err != nil {
				// An event the expression cannot read (a missing field) runs under an empty
				// value rather than being dropped: it is still limited, with its peers.
				v = ""
			}
			meta.ConcurrencyKey = fmt.Sprintf("wf%d:%s", row.ID, v)
		}
		if row.Config != "" {
			flow, err := r.flows.get(row.ID, row.Version, row.Config)
			if err != nil {
				return nil, fmt.Errorf("workflow %d version %d: %w", row.ID, row.Version, err)
			}
			if row.ConcurrencyKey != "" && len(flow.Concurrency) == 0 {
				// The run replaces the function's flow, whose keyed limit of one is what the
				// per-workflow concurrency key means: keep it.
				f := *flow
				f.Concurrency = []engine.Concurrency{{Limit: 1, KeyedOnly: true}}
				flow = &f
			}
			meta.Flow = flow
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

// The Fanout's lookups: the enabled workflows with a trigger of the event's name (saying that
// t.event is not empty lets the planner use the partial index workflow_triggers_event, which
// a bound parameter alone does not prove), or the one scheduled workflow of a ScheduledEvent;
// each with its current version's config, by workflow and trigger position.
const (
	fanoutSelect = `SELECT w.id, w.version, w.concurrency_key, t.if_expr, v.config
FROM workflows w
JOIN workflow_triggers t ON t.workflow_id = w.id
JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
WHERE w.enabled AND w.deleted_at IS NULL AND `
	fanoutByEvent = fanoutSelect + `t.event = ? AND t.event <> '' ORDER BY w.id, t.position`
	fanoutByID    = fanoutSelect + `w.id = ? AND t.cron <> '' ORDER BY w.id, t.position`
)

func scanFanout(ctx context.Context, tx engine.Tx, query string, arg any) ([]fanoutRow, error) {
	res, err := tx.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var rows []fanoutRow
	for res.Next() {
		var f fanoutRow
		if err := res.Scan(&f.ID, &f.Version, &f.ConcurrencyKey, &f.IfExpr, &f.Config); err != nil {
			return nil, err
		}
		rows = append(rows, f)
	}
	return rows, res.Err()
}

type fanoutRow struct {
	ID             int64
	Version        int
	ConcurrencyKey string
	IfExpr         string
	Config         string
}

// triggerHolds evaluates a trigger's condition within the expression limits. An event the
// condition cannot read, or a condition stopped at its limit, starts no run (as the engine
// treats a Go function's trigger If).
func triggerHolds(src string, event map[string]any) bool {
	out, err := configEventEnv.Eval(context.Background(), src, map[string]any{"event": event})
	if err != nil {
		return false
	}
	b, ok := out.Value().(bool)
	return ok && b
}

// evalKey returns the text of a key expression's value over the event.
func evalKey(src string, event map[string]any) (string, error) {
	out, err := configEventEnv.Eval(context.Background(), src, map[string]any{"event": event})
	if err != nil {
		return "", err
	}
	return fmt.Sprint(out.Value()), nil
}

// celEvent is the event as expressions see it: its JSON decoded (numbers as float64).
func celEvent(ev engine.Event) map[string]any {
	m := map[string]any{}
	if b, err := json.Marshal(ev); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// flowCache keeps the engine.Flow of saved configs by workflow version (versions are
// immutable, so an entry never goes stale); it is bounded and simply restarts when full.
type flowCache struct {
	mu    sync.Mutex
	flows map[[2]int64]*engine.Flow
}

const maxCachedFlows = 1024

// get returns the Flow of a version's stored config. The Flow is shared: read it only.
func (c *flowCache) get(id int64, version int, text string) (*engine.Flow, error) {
	key := [2]int64{id, int64(version)}
	c.mu.Lock()
	f, ok := c.flows[key]
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	cfg, err := decodeConfig(text)
	if err != nil {
		return nil, err
	}
	if f, err = cfg.Flow(); err != nil {
		return nil, fmt.Errorf("stored config: %w", err)
	}
	c.mu.Lock()
	if c.flows == nil || len(c.flows) >= maxCachedFlows {
		c.flows = map[[2]int64]*engine.Flow{}
	}
	c.flows[key] = f
	c.mu.Unlock()
	return f, nil
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
	return r.walker.RunRetrying(ctx, in, v.Workflow, v.Config.Retries)
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

// dueCronIn is dueCron over db (a transaction, inside a Fanout). A workflow with several
// schedules that fire in the same minute gets one event for it.
func dueCronIn(ctx context.Context, db *gorm.DB, tick time.Time) ([]engine.Event, error) {
	var rows []struct {
		ID   int64
		Cron string
	}
	err := db.WithContext(ctx).Table("workflows w").Select("w.id, t.cron").
		Joins("JOIN workflow_triggers t ON t.workflow_id = w.id").
		Where("w.enabled AND w.deleted_at IS NULL AND t.cron <> ''").
		Order("w.id, t.position").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list scheduled workflows: %w", err)
	}
	var out []engine.Event
	seen := map[string]bool{}
	for _, row := range rows {
		sched, err := engine.ParseCron(row.Cron)
		if err != nil {
			continue // refused on save; a schedule the parser no longer reads never fires
		}
		at := sched.Next(tick.Add(-time.Minute))
		if at.IsZero() || at.After(tick) {
			continue
		}
		id := fmt.Sprintf("wf-%d-%d", row.ID, at.Unix())
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, engine.Event{
			ID:   id,
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
