package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
)

// MaxNameLength and MaxDescriptionLength bound a workflow's name and description.
const (
	MaxNameLength        = 200
	MaxDescriptionLength = 4000
)

// Record is a stored workflow with its current version's graph.
type Record struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Trigger is the first event trigger (or, with none, the first schedule as "cron: ...");
	// Triggers is the whole list.
	Trigger        string        `json:"trigger"`
	Triggers       []TriggerSpec `json:"triggers"`
	Enabled        bool          `json:"enabled"`
	Version        int           `json:"version"`
	ConcurrencyKey string        `json:"concurrency_key,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
	Workflow       *Workflow     `json:"workflow,omitempty"`
	// Config is the current version's flow control, as saved (set by Get, not by List).
	Config *Config `json:"config,omitempty"`
}

// Version is one immutable saved graph of a workflow.
type Version struct {
	WorkflowID int64     `json:"workflow_id"`
	Version    int       `json:"version"`
	SavedBy    *int64    `json:"saved_by,omitempty"`
	SavedAt    time.Time `json:"saved_at"`
	Workflow   *Workflow `json:"workflow"`
	Config     Config    `json:"config"`
}

// Draft is what a save carries. On Update, nil fields keep their stored values; a nil
// Workflow keeps the current version (no new version is made).
type Draft struct {
	Name           *string `json:"name"`
	Description    *string `json:"description"`
	Trigger        *string `json:"trigger"`
	Enabled        *bool   `json:"enabled"`
	ConcurrencyKey *string `json:"concurrency_key"`
	// Triggers replaces the trigger list (see CheckTriggers); sending it with Trigger is
	// refused. Config replaces the flow control (ParseConfig; null clears it) and, like a
	// graph, saves a new version.
	Triggers json.RawMessage `json:"triggers"`
	Config   json.RawMessage `json:"config"`
	Workflow json.RawMessage `json:"workflow"`
	// BaseVersion, when set, is the version the client edited: a save over a newer version is
	// refused with EConflict instead of silently overwriting someone else's work.
	BaseVersion int `json:"base_version,omitempty"`
	// SavedBy is the user saving (set by the caller from the session, never from the body).
	SavedBy *int64 `json:"-"`
}

// Store keeps workflows and their versions. Every method runs in one short transaction;
// validation failures store nothing.
type Store struct {
	db  *gorm.DB
	reg *Registry
	now func() time.Time
	// postgres: the database numbers its placeholders ($1), for the runner's plain SQL.
	postgres bool
}

// NewStore returns a Store over db (migrated) validating against reg.
func NewStore(db *gorm.DB, reg *Registry) *Store {
	return &Store{db: db, reg: reg, now: time.Now, postgres: db.Dialector.Name() == "postgres"}
}

// Registry returns the kinds the store validates against.
func (s *Store) Registry() *Registry { return s.reg }

type workflowRow struct {
	ID             int64 `gorm:"primaryKey"`
	Name           string
	Description    string
	Trigger        string `gorm:"column:trigger"`
	Enabled        bool
	Version        int
	ConcurrencyKey string
	CreatedAt      int64 `gorm:"autoCreateTime:false"`
	UpdatedAt      int64 `gorm:"autoUpdateTime:false"`
	DeletedAt      *int64
}

func (workflowRow) TableName() string { return "workflows" }

type versionRow struct {
	WorkflowID int64 `gorm:"primaryKey;autoIncrement:false"`
	Version    int   `gorm:"primaryKey;autoIncrement:false"`
	Definition string
	Config     string
	SavedBy    *int64
	SavedAt    int64
}

func (versionRow) TableName() string { return "workflow_versions" }

type triggerRow struct {
	WorkflowID int64 `gorm:"primaryKey;autoIncrement:false"`
	Position   int   `gorm:"primaryKey;autoIncrement:false"`
	Event      string
	IfExpr     string `gorm:"column:if_expr"`
	Cron       string
}

func (triggerRow) TableName() string { return "workflow_triggers" }

// Create validates and stores a new workflow as version 1. A missing name falls back to the
// graph's own name. Enabling needs a trigger. A Draft without a graph stores a blank draft
// (no actions) for the editor to fill; it cannot be enabled until a save gives it actions.
func (s *Store) Create(ctx context.Context, d Draft) (*Record, error) {
	var wf *Workflow
	if raw := d.Workflow; len(bytes.TrimSpace(raw)) == 0 || isNull(raw) {
		wf = &Workflow{Actions: []Action{}, Edges: []Edge{}}
	} else {
		var err error
		if wf, err = s.decode(raw); err != nil {
			return nil, err
		}
	}
	row := workflowRow{Name: wf.Name, Description: wf.Description}
	triggers, err := applyDraft(&row, d, nil)
	if err != nil {
		return nil, err
	}
	if triggers == nil {
		triggers = []TriggerSpec{}
	}
	cfg, cfgText, err := draftConfig(d)
	if err != nil {
		return nil, err
	}
	if err := checkConcurrencyKey(&row, cfg); err != nil {
		return nil, err
	}
	if err := CheckEventsRefs(wf, cfg); err != nil {
		return nil, err
	}
	if err := checkRunnable(&row, wf); err != nil {
		return nil, err
	}
	if row.Name == "" {
		row.Name = "Untitled workflow"
	}
	def, err := json.Marshal(wf)
	if err != nil {
		return nil, fmt.Errorf("encode workflow: %w", err)
	}
	now := s.now().UnixMilli()
	row.CreatedAt, row.UpdatedAt, row.Version = now, now, 1
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert workflow: %w", err)
		}
		if err := saveTriggers(tx, row.ID, triggers); err != nil {
			return err
		}
		return tx.Create(&versionRow{WorkflowID: row.ID, Version: 1, Definition: string(def), Config: cfgText, SavedBy: d.SavedBy, SavedAt: now}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("create workflow: %w", err)
	}
	rec := row.record(wf, triggers)
	rec.Config = &cfg
	return rec, nil
}

// Update changes a workflow. A Draft with a Workflow saves a new version (even when the graph
// is unchanged: each save is recorded); runs in flight keep the version they pinned.
// ENotFound if there is no such workflow, EConflict if BaseVersion is stale.
func (s *Store) Update(ctx context.Context, id int64, d Draft) (*Record, error) {
	var wf *Workflow
	var def []byte
	if len(bytes.TrimSpace(d.Workflow)) > 0 && !isNull(d.Workflow) {
		var err error
		if wf, err = s.decode(d.Workflow); err != nil {
			return nil, err
		}
		if def, err = json.Marshal(wf); err != nil {
			return nil, fmt.Errorf("encode workflow: %w", err)
		}
	}
	var out *Record
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := getRow(tx, id)
		if err != nil {
			return err
		}
		if d.BaseVersion != 0 && d.BaseVersion != row.Version {
			return engine.Errorf(engine.EConflict, "workflow %d was saved as version %d since you loaded version %d; reload and apply your change again", id, row.Version, d.BaseVersion)
		}
		current, err := loadTriggers(tx, id)
		if err != nil {
			return err
		}
		triggers, err := applyDraft(row, d, current)
		if err != nil {
			return err
		}
		cur, err := loadVersionRow(tx, id, row.Version)
		if err != nil {
			return err
		}
		cfgText := cur.Config
		if d.Config != nil {
			if _, cfgText, err = draftConfig(d); err != nil {
				return err
			}
		}
		if cfg, err := decodeConfig(cfgText); err != nil {
			return err
		} else if err := checkConcurrencyKey(row, cfg); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		row.UpdatedAt = now
		if wf == nil && cfgText != cur.Config {
			def = []byte(cur.Definition) // a new config alone is a new version of the same graph
		}
		if def != nil {
			row.Version++
			if err := tx.Create(&versionRow{WorkflowID: id, Version: row.Version, Definition: string(def), Config: cfgText, SavedBy: d.SavedBy, SavedAt: now}).Error; err != nil {
				return fmt.Errorf("insert version: %w", err)
			}
		}
		if wf == nil {
			v, err := cur.version()
			if err != nil {
				return err
			}
			wf = v.Workflow
		}
		if cfg, err := decodeConfig(cfgText); err != nil {
			return err
		} else if err := CheckEventsRefs(wf, cfg); err != nil {
			return err
		}
		if err := checkRunnable(row, wf); err != nil {
			return err
		}
		if err := saveRow(tx, row); err != nil {
			return err
		}
		if triggers != nil {
			if err := saveTriggers(tx, id, triggers); err != nil {
				return err
			}
		} else {
			triggers = current
		}
		cfg, err := decodeConfig(cfgText)
		if err != nil {
			return err
		}
		out = row.record(wf, triggers)
		out.Config = &cfg
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns a workflow with its current graph; ENotFound if it does not exist or was deleted.
func (s *Store) Get(ctx context.Context, id int64) (*Record, error) {
	var out *Record
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := getRow(tx, id)
		if err != nil {
			return err
		}
		vr, err := loadVersionRow(tx, id, row.Version)
		if err != nil {
			return err
		}
		v, err := vr.version()
		if err != nil {
			return err
		}
		triggers, err := loadTriggers(tx, id)
		if err != nil {
			return err
		}
		out = row.record(v.Workflow, triggers)
		out.Config = &v.Config
		return nil
	})
	return out, err
}

// List returns every workflow (without graphs), by name.
func (s *Store) List(ctx context.Context) ([]Record, error) {
	var rows []workflowRow
	if err := s.db.WithContext(ctx).Where("deleted_at IS NULL").Order("name, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	var trs []triggerRow
	if err := s.db.WithContext(ctx).Where("workflow_id IN (?)", s.db.Model(&workflowRow{}).Select("id").Where("deleted_at IS NULL")).
		Order("workflow_id, position").Find(&trs).Error; err != nil {
		return nil, fmt.Errorf("list workflow triggers: %w", err)
	}
	byID := map[int64][]TriggerSpec{}
	for _, t := range trs {
		byID[t.WorkflowID] = append(byID[t.WorkflowID], t.spec())
	}
	out := make([]Record, 0, len(rows))
	for i := range rows {
		ts := byID[rows[i].ID]
		if ts == nil {
			ts = []TriggerSpec{}
		}
		out = append(out, *rows[i].record(nil, ts))
	}
	return out, nil
}

// Delete removes a workflow from lists and stops it starting runs. Its versions stay, so
// runs in flight finish on the version they pinned. ENotFound if there is none.
func (s *Store) Delete(ctx context.Context, id int64) error {
	now := s.now().UnixMilli()
	res := s.db.WithContext(ctx).Model(&workflowRow{}).Where("id = ? AND deleted_at IS NULL", id).
		Updates(map[string]any{"deleted_at": now, "enabled": false, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("delete workflow %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound(id)
	}
	return nil
}

// Versions returns a workflow's versions, newest first.
func (s *Store) Versions(ctx context.Context, id int64) ([]Version, error) {
	var out []Version
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := getRow(tx, id); err != nil {
			return err
		}
		var rows []versionRow
		if err := tx.Where("workflow_id = ?", id).Order("version DESC").Find(&rows).Error; err != nil {
			return fmt.Errorf("list versions of workflow %d: %w", id, err)
		}
		for _, r := range rows {
			v, err := r.version()
			if err != nil {
				return err
			}
			out = append(out, *v)
		}
		return nil
	})
	return out, err
}

// Version returns one version, also of a deleted workflow (runs that pinned it need it).
func (s *Store) Version(ctx context.Context, id int64, version int) (*Version, error) {
	var r versionRow
	err := s.db.WithContext(ctx).Where("workflow_id = ? AND version = ?", id, version).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, engine.Errorf(engine.ENotFound, "workflow %d has no version %d", id, version)
	}
	if err != nil {
		return nil, fmt.Errorf("load workflow %d version %d: %w", id, version, err)
	}
	return r.version()
}

// SetEnabled enables or disables a workflow. Enabling needs a trigger. Disabling stops new
// runs; runs in flight continue.
func (s *Store) SetEnabled(ctx context.Context, id int64, enabled bool) (*Record, error) {
	return s.Update(ctx, id, Draft{Enabled: &enabled})
}

// Enable lets a workflow start runs again (it needs a trigger).
func (s *Store) Enable(ctx context.Context, id int64) (*Record, error) {
	return s.SetEnabled(ctx, id, true)
}

// Disable stops a workflow starting runs; runs in flight continue on their pinned version.
func (s *Store) Disable(ctx context.Context, id int64) (*Record, error) {
	return s.SetEnabled(ctx, id, false)
}

// Export returns the current version's workflow-kit JSON, as it was imported or saved. A
// workflow with flow control, several triggers or a trigger condition exports as the wrapped
// form Import reads ({"name", "description", "triggers", "config", "workflow"}), so nothing
// of it is lost on the way to another server.
func (s *Store) Export(ctx context.Context, id int64) ([]byte, error) {
	rec, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.Config.IsZero() && len(rec.Triggers) <= 1 && (len(rec.Triggers) == 0 || rec.Triggers[0].If == "") {
		return json.Marshal(rec.Workflow)
	}
	return json.Marshal(map[string]any{
		"name": rec.Name, "description": rec.Description, "triggers": rec.Triggers,
		"config": rec.Config, "workflow": rec.Workflow,
	})
}

// Import stores workflow-kit JSON as a new workflow. data is either the bare workflow
// ({actions, edges, ...}) or a Draft-shaped object ({"name", "trigger", "workflow": {...}});
// d supplies what the bare form lacks (name, trigger). Imported workflows start disabled
// unless d.Enabled says otherwise.
func (s *Store) Import(ctx context.Context, data []byte, d Draft) (*Record, error) {
	if len(data) > MaxWorkflowBytes+64<<10 {
		return nil, engine.Errorf(engine.ETooLarge, "import is %d bytes; the limit is %d", len(data), MaxWorkflowBytes)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil || probe == nil {
		return nil, engine.FieldError("workflow", "is not a JSON object")
	}
	if len(probe) == 0 {
		return nil, engine.FieldError("workflow", "is empty: import a workflow with actions and edges")
	}
	_, bare := probe["actions"]
	if _, wrapped := probe["workflow"]; wrapped && !bare {
		var w Draft
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, engine.FieldError("workflow", "%v", err)
		}
		w.SavedBy = d.SavedBy
		d = mergeDraft(w, d)
	} else {
		d.Workflow = data
	}
	return s.Create(ctx, d)
}

// Validate checks workflow JSON without storing anything (the dry run behind
// POST /api/workflows/validate).
func (s *Store) Validate(data []byte) (*Workflow, error) { return s.decode(data) }

func (s *Store) decode(data []byte) (*Workflow, error) { return DecodeValidate(data, s.reg) }

// mergeDraft fills what a wrapped import lacks from the caller's draft (which wins).
func mergeDraft(w, d Draft) Draft {
	if d.Name != nil {
		w.Name = d.Name
	}
	if d.Description != nil {
		w.Description = d.Description
	}
	if d.Trigger != nil {
		w.Trigger, w.Triggers = d.Trigger, nil
	}
	if d.Enabled != nil {
		w.Enabled = d.Enabled
	}
	return w
}

// applyDraft copies a draft's set fields onto row, checking each. It returns the draft's
// trigger list, or nil when the draft leaves the triggers as they are (current).
func applyDraft(row *workflowRow, d Draft, current []TriggerSpec) ([]TriggerSpec, error) {
	triggers, err := draftTriggers(d)
	if err != nil {
		return nil, err
	}
	if triggers != nil {
		row.Trigger = LegacyTrigger(triggers)
		current = triggers
	}
	if err := applyFields(row, d); err != nil {
		return nil, err
	}
	if row.Enabled && len(current) == 0 {
		if d.Triggers != nil {
			return nil, engine.FieldError("triggers", "a trigger is required to enable the workflow")
		}
		return nil, engine.FieldError("trigger", "is required to enable the workflow")
	}
	return triggers, nil
}

// draftTriggers is the draft's trigger list from "triggers" or the single "trigger" (nil if
// it sends neither); both at once is refused.
func draftTriggers(d Draft) ([]TriggerSpec, error) {
	hasList := d.Triggers != nil && !isNull(d.Triggers)
	switch {
	case hasList && d.Trigger != nil:
		return nil, engine.FieldError("triggers", "send either \"trigger\" or \"triggers\", not both")
	case hasList:
		return CheckTriggers(d.Triggers)
	case d.Trigger != nil:
		t, err := CheckTrigger(*d.Trigger)
		if err != nil {
			return nil, err
		}
		return TriggersOf(t), nil
	}
	return nil, nil
}

// CheckDraftTriggers checks a draft's "trigger" or "triggers" as saving does, storing nothing.
func CheckDraftTriggers(d Draft) error {
	_, err := draftTriggers(d)
	return err
}

// draftConfig parses the draft's config and returns it with the text to store ("" for none).
func draftConfig(d Draft) (Config, string, error) {
	cfg, err := ParseConfig(d.Config)
	if err != nil || cfg.IsZero() {
		return cfg, "", err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return cfg, "", fmt.Errorf("encode config: %w", err)
	}
	return cfg, string(b), nil
}

// decodeConfig reads a stored config ("" is none).
func decodeConfig(text string) (Config, error) {
	var c Config
	if text == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(text), &c); err != nil {
		return c, fmt.Errorf("decode stored config: %w", err)
	}
	return c, nil
}

// applyFields copies the draft's plain fields (not triggers) onto row.
func applyFields(row *workflowRow, d Draft) error {
	if d.Name != nil {
		row.Name = strings.TrimSpace(*d.Name)
		if row.Name == "" {
			return engine.FieldError("name", "is required")
		}
	}
	if len(row.Name) > MaxNameLength {
		return engine.FieldError("name", "is longer than %d characters", MaxNameLength)
	}
	if d.Description != nil {
		row.Description = strings.TrimSpace(*d.Description)
	}
	if len(row.Description) > MaxDescriptionLength {
		return engine.FieldError("description", "is longer than %d characters", MaxDescriptionLength)
	}
	if d.ConcurrencyKey != nil {
		row.ConcurrencyKey = strings.TrimSpace(*d.ConcurrencyKey)
		if row.ConcurrencyKey != "" {
			if err := compileWaitCEL(row.ConcurrencyKey); err != nil {
				return engine.FieldError("concurrency_key", "%v", err)
			}
		}
	}
	if d.Enabled != nil {
		row.Enabled = *d.Enabled
	}
	return nil
}

// checkConcurrencyKey refuses the per-workflow concurrency key beside config.concurrency: the
// key is a limit of one per value, which config.concurrency now says ([{"limit": 1, "key": ...}]),
// and two ways of saying the first limit would leave one silently ignored.
func checkConcurrencyKey(row *workflowRow, cfg Config) error {
	if row.ConcurrencyKey != "" && len(cfg.Concurrency) > 0 {
		return engine.FieldError("concurrency_key", "cannot be set with config.concurrency: write it there as {\"limit\": 1, \"key\": %q}", row.ConcurrencyKey)
	}
	return nil
}

// CheckEventsRefs refuses $.events on a workflow without config.batchEvents: only a batched
// run has several events (DESIGN.md). Saving checks it, and so does the dry run.
func CheckEventsRefs(wf *Workflow, cfg Config) error {
	if cfg.BatchEvents != nil {
		return nil
	}
	if where, text := EventsRef(wf); where != "" {
		return engine.FieldError(where, "%s: $.events is defined only on a workflow with config.batchEvents", text)
	}
	return nil
}

// checkRunnable refuses to enable a blank draft: Validate refuses a graph with no actions
// (workflow-kit's "no starting actions"), but Create keeps one as a draft to edit.
func checkRunnable(row *workflowRow, wf *Workflow) error {
	if row.Enabled && len(wf.Actions) == 0 {
		return engine.FieldError("enabled", "the workflow has no starting actions: add an action before enabling it")
	}
	return nil
}

func getRow(tx *gorm.DB, id int64) (*workflowRow, error) {
	var row workflowRow
	err := tx.Where("id = ? AND deleted_at IS NULL", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load workflow %d: %w", id, err)
	}
	return &row, nil
}

func saveRow(tx *gorm.DB, row *workflowRow) error {
	err := tx.Model(&workflowRow{}).Where("id = ?", row.ID).Updates(map[string]any{
		"name": row.Name, "description": row.Description, "trigger": row.Trigger, "enabled": row.Enabled,
		"version": row.Version, "concurrency_key": row.ConcurrencyKey, "updated_at": row.UpdatedAt,
	}).Error
	if err != nil {
		return fmt.Errorf("save workflow %d: %w", row.ID, err)
	}
	return nil
}

func loadVersionRow(tx *gorm.DB, id int64, version int) (*versionRow, error) {
	var r versionRow
	if err := tx.Where("workflow_id = ? AND version = ?", id, version).Take(&r).Error; err != nil {
		return nil, fmt.Errorf("load workflow %d version %d: %w", id, version, err)
	}
	return &r, nil
}

func loadTriggers(tx *gorm.DB, id int64) ([]TriggerSpec, error) {
	var rows []triggerRow
	if err := tx.Where("workflow_id = ?", id).Order("position").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load triggers of workflow %d: %w", id, err)
	}
	out := make([]TriggerSpec, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.spec())
	}
	return out, nil
}

// saveTriggers replaces a workflow's triggers.
func saveTriggers(tx *gorm.DB, id int64, ts []TriggerSpec) error {
	if err := tx.Where("workflow_id = ?", id).Delete(&triggerRow{}).Error; err != nil {
		return fmt.Errorf("replace triggers of workflow %d: %w", id, err)
	}
	if len(ts) == 0 {
		return nil
	}
	rows := make([]triggerRow, 0, len(ts))
	for i, t := range ts {
		rows = append(rows, triggerRow{WorkflowID: id, Position: i, Event: t.Event, IfExpr: t.If, Cron: t.Cron})
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("save triggers of workflow %d: %w", id, err)
	}
	return nil
}

func (r triggerRow) spec() TriggerSpec {
	return TriggerSpec{Event: r.Event, If: r.IfExpr, Cron: r.Cron}
}

func notFound(id int64) error { return engine.Errorf(engine.ENotFound, "workflow %d not found", id) }

func (r *workflowRow) record(wf *Workflow, triggers []TriggerSpec) *Record {
	return &Record{
		ID: r.ID, Name: r.Name, Description: r.Description, Trigger: r.Trigger, Triggers: triggers, Enabled: r.Enabled,
		Version: r.Version, ConcurrencyKey: r.ConcurrencyKey,
		CreatedAt: time.UnixMilli(r.CreatedAt).UTC(), UpdatedAt: time.UnixMilli(r.UpdatedAt).UTC(), Workflow: wf,
	}
}

func (r versionRow) version() (*Version, error) {
	wf, err := decodeWorkflow([]byte(r.Definition))
	if err != nil {
		return nil, fmt.Errorf("decode workflow %d version %d: %w", r.WorkflowID, r.Version, err)
	}
	cfg, err := decodeConfig(r.Config)
	if err != nil {
		return nil, fmt.Errorf("workflow %d version %d: %w", r.WorkflowID, r.Version, err)
	}
	return &Version{WorkflowID: r.WorkflowID, Version: r.Version, SavedBy: r.SavedBy, SavedAt: time.UnixMilli(r.SavedAt).UTC(), Workflow: wf, Config: cfg}, nil
}

// inTx is the store's database inside tx, the engine's sending transaction (a Fanout reads
// the workflows there, so what it sees commits with the runs it starts).
func (s *Store) inTx(ctx context.Context, tx engine.Tx) *gorm.DB {
	g := s.db.Session(&gorm.Session{NewDB: true, Context: ctx})
	g.Statement.ConnPool = tx
	return g
}
