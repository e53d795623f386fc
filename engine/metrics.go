package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is a Prometheus collector over the engine's tables. Because every inkflow process
// shares the database, its figures are database-wide: any instance reports the same queue,
// the same workers and the same counts. Scrape one instance, or aggregate instances with
// max(), not sum().
//
// Counters (events received, runs started and finished, step durations, AI tokens) count
// what happened since the collector was made: at each scrape the collector reads the rows
// that appeared or ended since the previous scrape (up to Lag ago, so that rows still being
// committed are not skipped). Gauges (runs by live status, queue depth, oldest due run,
// workers) are read fresh at every scrape.
type Metrics struct {
	e *Engine
	// Lag keeps the newest rows for the next scrape: a transaction that stamped its rows a
	// moment ago may not have committed yet. Default 2s; tests set 0.
	Lag time.Duration
	// Timeout bounds the queries of one scrape (default 5s).
	Timeout time.Duration

	mu   sync.Mutex
	mark int64 // unix ms: rows stamped up to here have been counted

	events       prometheus.Counter
	started      *prometheus.CounterVec
	finished     *prometheus.CounterVec
	steps        *prometheus.HistogramVec
	tokens       *prometheus.CounterVec
	scrapeErrors prometheus.Counter

	live, queueDepth, oldestDue     *prometheus.Desc
	workers, slotsBusy, slots, util *prometheus.Desc
}

// NewMetrics returns a collector over e's database; register it on a prometheus.Registry.
func NewMetrics(e *Engine) *Metrics {
	return &Metrics{
		e:       e,
		Lag:     2 * time.Second,
		Timeout: 5 * time.Second,
		mark:    ms(e.idClock()) - 1,
		events: prometheus.NewCounter(prometheus.CounterOpts{Name: "inkflow_events_received_total",
			Help: "Events stored (all senders: API, intake, CMS, steps, cron), database-wide."}),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inkflow_runs_started_total",
			Help: "Runs created, by function, database-wide."}, []string{"function"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inkflow_runs_finished_total",
			Help: "Runs that ended, by function and final status (completed, failed, cancelled), database-wide."},
			[]string{"function", "status"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "inkflow_step_duration_seconds",
			Help:    "Duration of Step.Run steps (first start to commit, retries included), observed when their run ends.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 10)}, []string{"function"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "inkflow_ai_tokens_total",
			Help: "Model tokens used by AI steps (from the usage their outputs record), by provider, model and kind (prompt, completion)."},
			[]string{"provider", "model", "kind"}),
		scrapeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "inkflow_metrics_scrape_errors_total",
			Help: "Scrapes whose database queries failed; their figures are missing from that scrape."}),
		live: prometheus.NewDesc("inkflow_runs", "Runs not yet finished, by status.", []string{"status"}, nil),
		queueDepth: prometheus.NewDesc("inkflow_queue_depth",
			"Runs due now that no worker holds (queued, or sleeping/waiting/backing off past their time).", nil, nil),
		oldestDue: prometheus.NewDesc("inkflow_queue_oldest_due_seconds",
			"How long the longest-due run has been waiting for a worker (0 when none is due).", nil, nil),
		workers:   prometheus.NewDesc("inkflow_workers_alive", "Worker processes that heartbeated recently.", nil, nil),
		slotsBusy: prometheus.NewDesc("inkflow_worker_slots_busy", "Runs in hand across live workers.", nil, nil),
		slots:     prometheus.NewDesc("inkflow_worker_slots", "Run slots (concurrency) across live workers.", nil, nil),
		util:      prometheus.NewDesc("inkflow_worker_utilisation", "Busy slots / slots across live workers (0..1).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.events.Describe(ch)
	m.started.Describe(ch)
	m.finished.Describe(ch)
	m.steps.Describe(ch)
	m.tokens.Describe(ch)
	m.scrapeErrors.Describe(ch)
	for _, d := range []*prometheus.Desc{m.live, m.queueDepth, m.oldestDue, m.workers, m.slotsBusy, m.slots, m.util} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A failing query is logged and counted in
// inkflow_metrics_scrape_errors_total; the rest of the scrape is still answered.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), m.Timeout)
	defer cancel()
	if err := m.advance(ctx); err != nil {
		m.e.log.Warn("metrics: count new rows", "err", err)
		m.scrapeErrors.Inc()
	}
	if err := m.gauges(ctx, ch); err != nil {
		m.e.log.Warn("metrics: read gauges", "err", err)
		m.scrapeErrors.Inc()
	}
	m.events.Collect(ch)
	m.started.Collect(ch)
	m.finished.Collect(ch)
	m.steps.Collect(ch)
	m.tokens.Collect(ch)
	m.scrapeErrors.Collect(ch)
}

// advance counts the rows stamped in (mark, now-Lag] and moves the mark. Scrapes are
// serialised so that a window is counted once.
func (m *Metrics) advance(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, to := m.mark, ms(m.e.idClock())-m.Lag.Milliseconds()
	if to <= from {
		return nil
	}
	q := m.e.st.Q(ctx)
	// Event and run ids are UUIDv7: a window of time is a primary-key range.
	lo, hi := idPrefix(from+1), idPrefix(to+1)
	events, err := q.CountEvents(lo, hi)
	if err != nil {
		return err
	}
	started, err := q.RunsCreated(lo, hi)
	if err != nil {
		return err
	}
	ended, err := q.RunsEnded(from, to)
	if err != nil {
		return err
	}
	steps, err := q.StepTimings(from, to)
	if err != nil {
		return err
	}
	m.mark = to
	m.events.Add(float64(events))
	for _, r := range started {
		m.started.WithLabelValues(r.FunctionID).Add(float64(r.N))
	}
	for _, r := range ended {
		m.finished.WithLabelValues(r.FunctionID, r.Status).Add(float64(r.N))
	}
	for _, s := range steps {
		m.steps.WithLabelValues(s.FunctionID).Observe(float64(max(s.EndedAt-s.StartedAt, 0)) / 1000)
		if s.Output != nil {
			m.addTokens(*s.Output)
		}
	}
	return nil
}

// addTokens adds the usage a step's output records (see ParseUsage).
func (m *Metrics) addTokens(output string) {
	u, ok := ParseUsage(output)
	if !ok {
		return
	}
	m.tokens.WithLabelValues(u.Provider, u.Model, "prompt").Add(float64(u.PromptTokens))
	m.tokens.WithLabelValues(u.Provider, u.Model, "completion").Add(float64(u.CompletionTokens))
}

// workerStale is how old a heartbeat may be for its worker to count as alive: workers
// heartbeat every third of their lease.
func (m *Metrics) workerStale() time.Duration { return 2 * m.e.opts.Lease }

// gauges reads the live figures.
func (m *Metrics) gauges(ctx context.Context, ch chan<- prometheus.Metric) error {
	q := m.e.st.Q(ctx)
	now := ms(m.e.now())
	counts, err := q.LiveRuns()
	if err != nil {
		return err
	}
	for _, s := range []Status{StatusQueued, StatusRunning, StatusSleeping, StatusWaiting} {
		ch <- prometheus.MustNewConstMetric(m.live, prometheus.GaugeValue, float64(counts[string(s)]), string(s))
	}
	queue, err := m.e.Queue(ctx)
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(m.queueDepth, prometheus.GaugeValue, float64(queue.Depth))
	ch <- prometheus.MustNewConstMetric(m.oldestDue, prometheus.GaugeValue, queue.OldestDue.Seconds())
	var w struct{ N, Busy, Slots int64 }
	if w.N, w.Busy, w.Slots, err = q.WorkerTotals(now - m.workerStale().Milliseconds()); err != nil {
		return err
	}
	util := 0.0
	if w.Slots > 0 {
		util = float64(w.Busy) / float64(w.Slots)
	}
	ch <- prometheus.MustNewConstMetric(m.workers, prometheus.GaugeValue, float64(w.N))
	ch <- prometheus.MustNewConstMetric(m.slotsBusy, prometheus.GaugeValue, float64(w.Busy))
	ch <- prometheus.MustNewConstMetric(m.slots, prometheus.GaugeValue, float64(w.Slots))
	ch <- prometheus.MustNewConstMetric(m.util, prometheus.GaugeValue, util)
	return nil
}

// idPrefix is the text that every UUIDv7 made at or after ms (Unix milliseconds) sorts at or
// after, and every one made before sorts before: its 48-bit timestamp, as UUID text starts.
func idPrefix(ms int64) string {
	return fmt.Sprintf("%08x-%04x", uint64(ms)>>16, uint64(ms)&0xffff)
}

// Queue is the work due now that no worker holds.
type Queue struct {
	// Depth counts runs due now: queued, or sleeping, waiting or backing off past their time,
	// or running under a lease that expired (their worker died).
	Depth int64
	// OldestDue is how long the longest-due of them has been due (0 when none).
	OldestDue time.Duration
}

// Queue reads the queue: what the System page and the queue metrics show.
func (e *Engine) Queue(ctx context.Context) (Queue, error) {
	now := ms(e.now())
	n, oldest, err := e.st.Q(ctx).QueueDepth(now)
	if err != nil {
		return Queue{}, err
	}
	q := Queue{Depth: n}
	if oldest != nil && *oldest < now {
		q.OldestDue = time.Duration(now-*oldest) * time.Millisecond
	}
	return q, nil
}

// Worker is a worker process as recorded by its heartbeats.
type Worker struct {
	ID          string    `json:"id"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	Running     int       `json:"running"`
	Capacity    int       `json:"capacity"`
	// Alive is false when the heartbeat is older than twice the lease: the process died
	// without removing its row (a clean stop removes it).
	Alive bool `json:"alive"`
}

// Workers lists the worker processes recorded in the database, newest heartbeat first.
func (e *Engine) Workers(ctx context.Context) ([]Worker, error) {
	rows, err := e.st.Q(ctx).Workers()
	if err != nil {
		return nil, err
	}
	stale := ms(e.now()) - (2 * e.opts.Lease).Milliseconds()
	out := make([]Worker, len(rows))
	for i, r := range rows {
		out[i] = Worker{ID: r.ID, StartedAt: fromMS(r.StartedAt), HeartbeatAt: fromMS(r.HeartbeatAt),
			Running: r.Running, Capacity: r.Capacity, Alive: r.HeartbeatAt >= stale}
	}
	return out, nil
}
