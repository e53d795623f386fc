package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"github.com/inkflow/inkflow/engine/store"
)

// Engine stores events, starts runs and executes them. One Engine per process; any number
// of processes may share one PostgreSQL database.
type Engine struct {
	opts  Options
	st    *store.Store
	pg    bool // the store is PostgreSQL: several processes share it
	log   *slog.Logger
	now   func() time.Time
	exprs *exprs

	// procNow is this process's clock when the engine keeps the database's time (no injected
	// Options.Now); offset is the database's clock minus it, in nanoseconds (see syncClock).
	procNow func() time.Time
	offset  atomic.Int64
	// clockErr bounds offset's error: half the round trip of its measurement, nanoseconds.
	clockErr atomic.Int64

	mu    sync.RWMutex
	funcs map[string]*registered

	commits *committer
	// inflight holds the ids of the runs this process is executing: heartbeats extend exactly
	// these leases, so a run this process has given up on expires even while it lives.
	inflight sync.Map

	// wake is the in-process signal that runs may be due; LISTEN/NOTIFY feeds it on PostgreSQL.
	wake chan struct{}
	// checkWake wakes the wait checker (see checkWaits); signal feeds it too.
	checkWake chan struct{}

	// storedNeeds holds the needs sets seen stored (claim.go), so a send stores each once.
	storedNeeds sync.Map
	// throttleNoted holds the runs whose throttle delay this process has recorded on their
	// events (claim.go), so a claim pass does not record one again; bounded there.
	throttleMu    sync.Mutex
	throttleNoted map[string]struct{}
	// peers is this process's view of what the other live processes register (registry.go).
	peers peers

	// dyn holds functions registered while the engine runs (dynamic.go).
	dyn      dynamic
	kickOnce sync.Once

	// beforeWaitStored, when set by a test of this package, runs between a wait being reached
	// and being stored: the window in which an arriving event must not be missed. A field, not
	// a package variable, so tests that set it can run in parallel.
	beforeWaitStored func()
}

// registered is a Function with its expressions and schedules checked and compiled.
type registered struct {
	fn      *Function
	retries int
	crons   []cronSchedule
	// internal marks functions the engine adds itself (OnFailure handlers).
	internal bool
	// remote marks functions only other live processes have (registry.go): this process
	// starts their runs but never claims them.
	remote bool
}

type cronSchedule struct {
	// key is the cron_ticks key: function id + "#" + the schedule as written, so reordering a
	// function's triggers neither fires a tick again nor skips one.
	key string
	// legacyKey is the key before schedules were keyed by their spec (function id + "#" +
	// the trigger's index): read once, when key has no tick yet, so an upgrade catches up on
	// the ticks it missed instead of starting over.
	legacyKey string
	spec      string
	schedule  cron.Schedule
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a five-field cron schedule (or a descriptor such as @daily) with an
// optional "TZ=Area/City " prefix. Without one the schedule is in UTC, whatever the server's
// local zone, so every instance agrees on the ticks.
func ParseCron(spec string) (s cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		if !strings.Contains(spec, " ") {
			return nil, Errorf(EInvalid, "cron schedule %q: a time zone needs a schedule after it, as in \"TZ=Europe/Lisbon 0 4 * * *\"", spec)
		}
	} else if spec != "" {
		spec = "TZ=UTC " + spec
	}
	defer func() {
		if r := recover(); r != nil { // the parser has panicked on odd input before: never let it take us down
			s, err = nil, Errorf(EInvalid, "cron schedule %q is not valid", spec)
		}
	}()
	s, err = cronParser.Parse(spec)
	if err != nil {
		return nil, Errorf(EInvalid, "cron schedule %q: %v", strings.TrimPrefix(spec, "TZ=UTC "), err)
	}
	return s, nil
}

// New returns an Engine over opts.DB (already migrated).
func New(opts Options) (*Engine, error) {
	if opts.DB == nil {
		return nil, fmt.Errorf("engine: Options.DB is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.WorkerID == "" {
		host, _ := os.Hostname()
		opts.WorkerID = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), randomHex(4))
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 256
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 10 * time.Minute
	}
	if opts.CronCatchUp <= 0 {
		opts.CronCatchUp = time.Hour
	}
	x, err := newExprs()
	if err != nil {
		return nil, err
	}
	st := store.New(opts.DB)
	e := &Engine{
		opts:  opts,
		st:    st,
		pg:    st.Postgres(),
		log:   opts.Logger,
		now:   opts.Now,
		exprs: x,
		funcs: map[string]*registered{},
		wake:  make(chan struct{}, 1),

		throttleNoted: map[string]struct{}{},

		checkWake: make(chan struct{}, 1),
	}
	if e.now == nil {
		skew := opts.skew
		e.procNow = func() time.Time { return time.Now().Add(skew) }
		e.now = e.dbClockNow
		if err := e.syncClock(context.Background()); err != nil {
			return nil, err
		}
	}
	e.commits = newCommitter(e)
	if err := e.hashStoredWaits(); err != nil {
		return nil, err
	}
	return e, nil
}

// Register adds functions. It refuses a duplicate ID, a trigger without event or cron, a
// cron schedule or CEL expression that does not parse. Call before Start.
func (e *Engine) Register(fns ...*Function) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, fn := range fns {
		r, err := e.check(fn)
		if err != nil {
			return err
		}
		if _, dup := e.funcs[fn.ID]; dup {
			return Errorf(EInvalid, "function %q is registered twice", fn.ID)
		}
		e.funcs[fn.ID] = r
		if fn.OnFailure != nil {
			fail := &Function{
				ID:       fn.ID + "-failure",
				Name:     fn.Name + " (on failure)",
				Triggers: []Trigger{{Event: EventRunFailed, If: fmt.Sprintf("event.data.function_id == %q", fn.ID)}},
				Handler:  fn.OnFailure,
			}
			fr, err := e.check(fail)
			if err != nil {
				return err
			}
			fr.internal = true
			e.funcs[fail.ID] = fr
		}
	}
	return nil
}

// Events the engine itself sends.
const (
	// EventRunFailed is sent when a run fails for good: data {function_id, run_id, error, event}.
	EventRunFailed = "inkflow/run.failed"
	// EventCron is the event of a run started by a cron trigger: data {cron, function_id}.
	EventCron = "inkflow/scheduled.timer"
	// EventInvoked is the event of a run started by Step.Invoke; data is the caller's.
	EventInvoked = "inkflow/function.invoked"
)

func (e *Engine) check(fn *Function) (*registered, error) {
	if fn == nil || fn.ID == "" {
		return nil, Errorf(EInvalid, "function: id is required")
	}
	if fn.Handler == nil {
		return nil, Errorf(EInvalid, "function %q: handler is required", fn.ID)
	}
	if fn.Name == "" {
		fn.Name = fn.ID
	}
	if err := fn.Flow.Check(e.CompileExpr); err != nil {
		return nil, functionError(fn.ID, err)
	}
	r := &registered{fn: fn, retries: DefaultRetries}
	if fn.Retries != nil {
		r.retries = *fn.Retries
	}
	for i, t := range fn.Triggers {
		switch {
		case t.Event != "" && t.Cron != "":
			return nil, Errorf(EInvalid, "function %q trigger %d: event or cron, not both", fn.ID, i)
		case t.Event != "":
			if t.If != "" {
				if _, err := e.exprs.compile(t.If); err != nil {
					return nil, fmt.Errorf("function %q trigger %d: %w", fn.ID, i, err)
				}
			}
		case t.Cron != "":
			s, err := ParseCron(t.Cron)
			if err != nil {
				return nil, fmt.Errorf("function %q: %w", fn.ID, err)
			}
			key := fn.ID + "#" + strings.TrimSpace(t.Cron)
			if slices.ContainsFunc(r.crons, func(c cronSchedule) bool { return c.key == key }) {
				continue // the same schedule twice fires once a tick
			}
			r.crons = append(r.crons, cronSchedule{key: key, legacyKey: fmt.Sprintf("%s#%d", fn.ID, i), spec: t.Cron, schedule: s})
		default:
			return nil, Errorf(EInvalid, "function %q trigger %d: needs an event name or a cron schedule", fn.ID, i)
		}
	}
	return r, nil
}

// functionError prefixes a Flow.Check error with the function it belongs to, keeping its
// code and the field it names: `function "x" debounce.key: ...`.
func functionError(id string, err error) error {
	var de *Error
	if !errors.As(err, &de) {
		return fmt.Errorf("function %q: %w", id, err)
	}
	return &Error{Code: de.Code, Message: fmt.Sprintf("function %q %s", id, de.Message), Fields: de.Fields}
}

// Functions returns the registered functions sorted by ID (the engine's internal on-failure
// functions included).
func (e *Engine) Functions() []*Function {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*Function, 0, len(e.funcs))
	for _, r := range e.funcs {
		out = append(out, r.fn)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// NextCron returns when each cron trigger of function id fires next, after the engine's now.
func (e *Engine) NextCron(id string) []time.Time {
	e.mu.RLock()
	r := e.funcs[id]
	e.mu.RUnlock()
	if r == nil {
		return nil
	}
	var out []time.Time
	for _, c := range r.crons {
		out = append(out, c.schedule.Next(e.now()))
	}
	return out
}

func (e *Engine) function(id string) *registered {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.funcs[id]
}

func (e *Engine) all() []*registered {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*registered, 0, len(e.funcs))
	for _, r := range e.funcs {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].fn.ID < out[j].fn.ID })
	return out
}

// signal wakes this process's claim loop without blocking.
func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
	select {
	case e.checkWake <- struct{}{}:
	default:
	}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
