package sdk

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/inkflow/inkflow/engine"
)

// Config configures a Registry. DB and Engine are required.
type Config struct {
	DB     *gorm.DB
	Engine *engine.Engine
	// Dev is dev mode (INKFLOW_INNGEST_DEV=1): nothing is signed and /fn/register needs no key.
	// Otherwise apps sync and are called in signed mode, with the key from SigningKey.
	Dev bool
	// Allow is the set of app URLs inkflow may call (INKFLOW_APP_URLS).
	Allow AllowList
	// Client makes the calls to apps; the default has CallTimeout and follows no redirects.
	Client *http.Client
	// CallTimeout bounds one call to an app (default 5 minutes: a step runs inside the call).
	CallTimeout time.Duration
	// UseAPIAbove is the call body size above which inngest-js apps are sent no memo and
	// fetch it from /v0/runs/{id}/actions and /batch instead (default 4 MiB: serverless
	// platforms cap request bodies near 4.5 MB). inngestgo cannot; it always gets the memo.
	UseAPIAbove int
	Now         func() time.Time
	Logger      *slog.Logger
}

// MaxAnswerBytes bounds what inkflow reads of an app's answer.
const MaxAnswerBytes = engine.MaxStepOutputBytes * 4

// Registry stores the Inngest SDK apps inkflow serves and keeps every process's engine in step
// with them.
type Registry struct {
	cfg Config

	mu     sync.Mutex
	loaded map[string]bool // app URLs whose functions the engine has
	seen   string          // the apps' version at the last Load
	key    string          // the signing key, once read
	fnIDs  map[string]bool // the apps' function ids, at the last Load
}

// App is a synced app as the API and the apps page show it.
type App struct {
	URL       string     `json:"url"`
	Name      string     `json:"name"`
	SDK       string     `json:"sdk"`
	Framework string     `json:"framework,omitempty"`
	Mode      string     `json:"mode"`
	Functions []Function `json:"functions"`
	SyncedAt  *time.Time `json:"synced_at"`
	// Error is the last sync's error; empty when the last sync succeeded.
	Error   string     `json:"error,omitempty"`
	ErrorAt *time.Time `json:"error_at,omitempty"`
}

// Function is one of an app's functions with what inkflow makes of it.
type Function struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Triggers []TriggerConfig `json:"triggers"`
	Retries  int             `json:"retries"`
	// NotApplied names the options the app set that inkflow does not apply (yet): shown,
	// never silently dropped.
	NotApplied []string `json:"not_applied"`
	// Archived functions were dropped by a later sync: they start no runs, and runs in flight
	// still finish.
	Archived bool `json:"archived,omitempty"`
}

type appRow struct {
	URL       string `gorm:"primaryKey"`
	Name      string
	SDK       string `gorm:"column:sdk"`
	Framework string
	Mode      string
	Functions string
	Archived  string
	Checksum  string
	SyncedAt  *int64
	SyncError string
	ErrorAt   *int64
	CreatedAt int64 `gorm:"autoCreateTime:false"`
	UpdatedAt int64 `gorm:"autoUpdateTime:false"`
}

func (appRow) TableName() string { return "sdk_apps" }

// New returns a Registry; call Load before the engine starts, then Watch.
func New(cfg Config) (*Registry, error) {
	if cfg.DB == nil || cfg.Engine == nil {
		return nil, fmt.Errorf("sdk: Config.DB and Config.Engine are required")
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Minute
	}
	if cfg.Client == nil {
		// Many runs call one app at once: keep a connection per run in flight (the default
		// keeps two per host, and a busy engine runs 256 or more), or every call beyond
		// those dials anew, costing both sides.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 4096, 1024
		cfg.Client = &http.Client{
			Transport: tr,
			Timeout:   cfg.CallTimeout,
			// A redirect would take the call past the allow-list.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.UseAPIAbove <= 0 {
		cfg.UseAPIAbove = 4 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Registry{cfg: cfg, loaded: map[string]bool{}}
	cfg.Engine.SetReload(r.Load)
	return r, nil
}

// Dev reports whether the registry runs in dev mode.
func (r *Registry) Dev() bool { return r.cfg.Dev }

// ServerKind is what inkflow tells apps it is: "dev" or "cloud".
func (r *Registry) ServerKind() string {
	if r.cfg.Dev {
		return KindDev
	}
	return KindCloud
}

// Apps lists the synced apps by URL.
func (r *Registry) Apps(ctx context.Context) ([]App, error) {
	var rows []appRow
	if err := r.cfg.DB.WithContext(ctx).Order("url").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	out := make([]App, 0, len(rows))
	for _, row := range rows {
		out = append(out, row.app())
	}
	return out, nil
}

// App returns the app at url (ENotFound if inkflow has none there).
func (r *Registry) App(ctx context.Context, url string) (App, error) {
	var row appRow
	err := r.cfg.DB.WithContext(ctx).Where("url = ?", url).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return App{}, engine.Errorf(engine.ENotFound, "no app at %s", url)
	}
	if err != nil {
		return App{}, fmt.Errorf("load app %s: %w", url, err)
	}
	return row.app(), nil
}

func (row appRow) app() App {
	a := App{URL: row.URL, Name: row.Name, SDK: row.SDK, Framework: row.Framework, Mode: row.Mode,
		Functions: []Function{}, Error: row.SyncError, SyncedAt: msTime(row.SyncedAt), ErrorAt: msTime(row.ErrorAt)}
	for _, list := range []struct {
		js       string
		archived bool
	}{{row.Functions, false}, {row.Archived, true}} {
		var fcs []FunctionConfig
		_ = json.Unmarshal([]byte(list.js), &fcs)
		for _, fc := range fcs {
			retries := fc.Retries()
			if retries < 0 {
				retries = engine.DefaultRetries
			}
			a.Functions = append(a.Functions, Function{ID: fc.ID, Name: fc.Name, Triggers: fc.Triggers, Retries: retries,
				NotApplied: NotApplied(fc), Archived: list.archived})
		}
	}
	return a
}

// NotApplied lists the options of fc that inkflow does not apply, by their Inngest names.
func NotApplied(fc FunctionConfig) []string {
	_, out := functionFlow(fc)
	if out == nil {
		out = []string{}
	}
	return out
}

// RegisterAuth is what /fn/register received besides the body.
type RegisterAuth struct {
	Authorization      string // the Authorization header
	ExpectedServerKind string // X-Inngest-Expected-Server-Kind
}

// Register stores the app an SDK registers at /fn/register and reports whether its functions
// changed. In signed mode the bearer must be the hashed signing key (EUnauthorized); the SDK's
// expected server kind must be inkflow's (EInvalid); every URL must be allowed (EInvalid).
func (r *Registry) Register(ctx context.Context, req RegisterRequest, auth RegisterAuth) (bool, error) {
	if !r.cfg.Dev {
		key, err := r.signingKey(ctx, false)
		if err != nil {
			return false, err
		}
		if key == "" {
			return false, engine.Errorf(engine.EUnauthorized, "inkflow has no signing key yet: run `inkflow apps signing-key` and give it to the app as INNGEST_SIGNING_KEY")
		}
		want := "Bearer " + HashedKey(key)
		if subtle.ConstantTimeCompare([]byte(auth.Authorization), []byte(want)) != 1 {
			return false, engine.Errorf(engine.EUnauthorized, "the app's signing key is not inkflow's (INNGEST_SIGNING_KEY must be the key `inkflow apps signing-key` prints)")
		}
	}
	if k := auth.ExpectedServerKind; k != "" && k != r.ServerKind() {
		return false, engine.Errorf(engine.EInvalid, "the app expects a %s server; inkflow runs in %s mode", k, r.ServerKind())
	}
	return r.store(ctx, req)
}

// store validates req and replaces the app's functions, in one write, then reloads.
func (r *Registry) store(ctx context.Context, req RegisterRequest) (bool, error) {
	if err := r.cfg.Allow.Check(req.URL); err != nil {
		return false, engine.FieldError("url", "%v", err)
	}
	ids := map[string]bool{}
	for i := range req.Functions {
		fc := req.Functions[i]
		if err := fc.Validate(); err != nil {
			return false, engine.FieldError("functions", "%v", err)
		}
		if ids[fc.ID] {
			return false, engine.FieldError("functions", "function %q appears twice", fc.ID)
		}
		ids[fc.ID] = true
		entry, _ := fc.Entry()
		if err := r.cfg.Allow.Check(entry.Runtime.URL); err != nil {
			return false, engine.FieldError("functions", "function %q: %v", fc.ID, err)
		}
		if err := r.cfg.Engine.CheckFunction(r.engineFunction(req.URL, req.SDKName(), fc, false)); err != nil {
			return false, engine.FieldError("functions", "%s", engine.ErrorMessage(err))
		}
	}
	fnJSON, _ := json.Marshal(req.Functions)
	if req.Functions == nil {
		fnJSON = []byte("[]")
	}
	sum := sha256.Sum256(fnJSON)
	checksum := hex.EncodeToString(sum[:])
	now := r.cfg.Now().UnixMilli()
	modified := true
	err := r.cfg.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var others []appRow
		if err := tx.Where("url <> ?", req.URL).Find(&others).Error; err != nil {
			return fmt.Errorf("load other apps: %w", err)
		}
		for _, o := range others {
			var fcs []FunctionConfig
			_ = json.Unmarshal([]byte(o.Functions), &fcs)
			for _, fc := range fcs {
				if ids[fc.ID] {
					return engine.FieldError("functions", "function %q is already registered by the app at %s", fc.ID, o.URL)
				}
			}
		}
		var old appRow
		err := tx.Where("url = ?", req.URL).Take(&old).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("load app: %w", err)
		}
		exists := err == nil
		modified = !exists || old.Checksum != checksum
		row := appRow{URL: req.URL, Name: req.Name(), SDK: req.SDKName(), Framework: req.Framework, Mode: r.ServerKind(),
			Functions: string(fnJSON), Archived: archive(old, ids), Checksum: checksum, SyncedAt: &now,
			CreatedAt: now, UpdatedAt: now}
		if exists {
			row.CreatedAt = old.CreatedAt
		}
		return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
	})
	if err != nil {
		return false, err
	}
	if err := r.Load(ctx); err != nil {
		return modified, err
	}
	return modified, nil
}

// archive returns the functions of old (current and archived) that the new set drops.
func archive(old appRow, keep map[string]bool) string {
	var out []FunctionConfig
	seen := map[string]bool{}
	for _, js := range []string{old.Functions, old.Archived} {
		var fcs []FunctionConfig
		_ = json.Unmarshal([]byte(js), &fcs)
		for _, fc := range fcs {
			if !keep[fc.ID] && !seen[fc.ID] {
				seen[fc.ID] = true
				out = append(out, fc)
			}
		}
	}
	if out == nil {
		return "[]"
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// recordError notes a failed sync on the app at url (creating its row, so the apps page shows
// an app that never synced).
func (r *Registry) recordError(ctx context.Context, url, msg string) {
	now := r.cfg.Now().UnixMilli()
	row := appRow{URL: url, Mode: r.ServerKind(), Functions: "[]", Archived: "[]", SyncError: msg, ErrorAt: &now, CreatedAt: now, UpdatedAt: now}
	err := r.cfg.DB.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "url"}},
		DoUpdates: clause.AssignmentColumns([]string{"sync_error", "error_at", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		r.cfg.Logger.Warn("record sync error", "url", url, "err", err)
	}
}

// Sync asks the app at url to register its functions: in signed mode an in-band sync (the
// signed PUT is answered with the functions), else, or when the app does not do in-band, an
// out-of-band one (the app posts /fn/register before it answers the PUT). A failure is
// recorded on the app and returned (EUnavailable); a URL that is not allowed is EInvalid.
func (r *Registry) Sync(ctx context.Context, url string) (App, error) {
	if err := r.cfg.Allow.Check(url); err != nil {
		return App{}, engine.FieldError("url", "%v", err)
	}
	if err := r.sync(ctx, url); err != nil {
		r.recordError(ctx, url, err.Error())
		_ = r.Load(ctx)
		return App{}, &engine.Error{Code: engine.EUnavailable, Message: "sync " + url + ": " + err.Error()}
	}
	if a, err := r.App(ctx, url); err == nil {
		return a, nil
	}
	// The app registered under another URL than the one it was synced at (its serve host).
	apps, err := r.Apps(ctx)
	if err != nil {
		return App{}, err
	}
	var newest *App
	for i := range apps {
		if a := &apps[i]; a.SyncedAt != nil && (newest == nil || a.SyncedAt.After(*newest.SyncedAt)) {
			newest = a
		}
	}
	if newest == nil {
		return App{}, engine.Errorf(engine.EUnavailable, "sync %s: the app answered but registered nothing", url)
	}
	return *newest, nil
}

func (r *Registry) sync(ctx context.Context, url string) error {
	body := []byte(`{"url":` + jsonString(url) + `}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderServerKind, r.ServerKind())
	var key string
	if !r.cfg.Dev {
		if key, err = r.SigningKey(ctx); err != nil {
			return err
		}
		sig, canon, err := Sign(body, key, r.cfg.Now())
		if err != nil {
			return err
		}
		req.Body = io.NopCloser(bytes.NewReader(canon))
		req.ContentLength = int64(len(canon))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderSyncKind, SyncInBand)
		req.Header.Set(HeaderSignature, sig)
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("the app did not answer: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes))
	if err != nil {
		return fmt.Errorf("read the app's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the app answered %d: %s", resp.StatusCode, answerMessage(b))
	}
	if strings.EqualFold(resp.Header.Get(HeaderSyncKind), SyncInBand) {
		// Both SDKs sign their in-band answer: a function list not signed with inkflow's key
		// could make inkflow call any URL the allow-list has, with any config.
		if key == "" {
			return fmt.Errorf("the app answered an unsigned sync in-band: refused")
		}
		if err := VerifyAnswer(b, resp.Header.Get(HeaderSignature), r.cfg.Now(), key); err != nil {
			return fmt.Errorf("the app's in-band answer is refused (%s does not match inkflow's signing key): %w", HeaderSignature, err)
		}
		var reg RegisterRequest
		if err := json.Unmarshal(b, &reg); err != nil {
			return fmt.Errorf("the app's in-band answer is not a function list: %w", err)
		}
		if reg.URL == "" {
			reg.URL = url
		}
		if _, err := r.store(ctx, reg); err != nil {
			return fmt.Errorf("the app's functions were refused: %s", engine.ErrorMessage(err))
		}
		return nil
	}
	return r.Load(ctx)
}

// answerMessage is the readable part of an app's error answer.
func answerMessage(b []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   any    `json:"error"`
	}
	if json.Unmarshal(b, &m) == nil {
		if m.Message != "" {
			return m.Message
		}
		if m.Error != nil {
			return fmt.Sprint(m.Error)
		}
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// SigningKey returns inkflow's signing key for apps, creating it on first use.
func (r *Registry) SigningKey(ctx context.Context) (string, error) {
	return r.signingKey(ctx, true)
}

func (r *Registry) signingKey(ctx context.Context, create bool) (string, error) {
	r.mu.Lock()
	key := r.key
	r.mu.Unlock()
	if key != "" {
		return key, nil
	}
	db := r.cfg.DB.WithContext(ctx)
	if create {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		err := db.Exec(`INSERT INTO sdk_signing_keys (id, signing_key, created_at) VALUES (1, ?, ?) ON CONFLICT DO NOTHING`,
			"signkey-prod-"+hex.EncodeToString(b), r.cfg.Now().UnixMilli()).Error
		if err != nil {
			return "", fmt.Errorf("create signing key: %w", err)
		}
	}
	var keys []string
	if err := db.Raw(`SELECT signing_key FROM sdk_signing_keys WHERE id = 1`).Scan(&keys).Error; err != nil {
		return "", fmt.Errorf("read signing key: %w", err)
	}
	if len(keys) == 0 {
		return "", nil
	}
	r.mu.Lock()
	r.key = keys[0]
	r.mu.Unlock()
	return keys[0], nil
}

// version is a cheap fingerprint of the apps table: it changes whenever an app is stored,
// records an error or is removed.
func (r *Registry) version(ctx context.Context) (string, error) {
	var v struct {
		N   int64
		Max *int64
	}
	if err := r.cfg.DB.WithContext(ctx).Raw(`SELECT COUNT(*) AS n, MAX(updated_at) AS max FROM sdk_apps`).Scan(&v).Error; err != nil {
		return "", fmt.Errorf("apps version: %w", err)
	}
	m := int64(0)
	if v.Max != nil {
		m = *v.Max
	}
	return fmt.Sprintf("%d/%d", v.N, m), nil
}

// Load gives the engine the functions of every stored app (and drops those of removed apps).
// An app whose functions the engine refuses (an id taken by a Go function, say) is logged and
// skipped; the others load.
func (r *Registry) Load(ctx context.Context) error {
	ver, err := r.version(ctx)
	if err != nil {
		return err
	}
	var rows []appRow
	if err := r.cfg.DB.WithContext(ctx).Order("url").Find(&rows).Error; err != nil {
		return fmt.Errorf("load apps: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	present := map[string]bool{}
	ids := map[string]bool{}
	for _, row := range rows {
		present[row.URL] = true
		var fns []*engine.Function
		for _, list := range []struct {
			js       string
			archived bool
		}{{row.Functions, false}, {row.Archived, true}} {
			var fcs []FunctionConfig
			if err := json.Unmarshal([]byte(list.js), &fcs); err != nil {
				r.cfg.Logger.Warn("stored functions of app are not valid JSON", "url", row.URL, "err", err)
				continue
			}
			for _, fc := range fcs {
				fns = append(fns, r.engineFunction(row.URL, row.SDK, fc, list.archived))
				ids[fc.ID] = true
			}
		}
		if err := r.cfg.Engine.ReplaceFunctions(row.URL, fns); err != nil {
			r.cfg.Logger.Warn("load app functions", "url", row.URL, "err", err)
			continue
		}
		r.loaded[row.URL] = true
	}
	for url := range r.loaded {
		if !present[url] {
			_ = r.cfg.Engine.ReplaceFunctions(url, nil)
			delete(r.loaded, url)
		}
	}
	r.seen = ver
	r.fnIDs = ids
	return nil
}

// Watch reloads the apps whenever another process changed them, checking every interval
// (default 1s), until ctx ends.
func (r *Registry) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ver, err := r.version(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.cfg.Logger.Warn("watch apps", "err", err)
			}
			continue
		}
		r.mu.Lock()
		changed := ver != r.seen
		r.mu.Unlock()
		if changed {
			if err := r.Load(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Warn("reload apps", "err", err)
			}
		}
	}
}

// Remove forgets the app at url: its functions (archived ones too) stop triggering at once
// in this process and within a Watch interval in the others, and its runs that have not
// finished are cancelled, saying the app was removed (they could never finish: no process
// has their function any more). It returns how many runs it cancelled; ENotFound when no app
// is at url.
func (r *Registry) Remove(ctx context.Context, url string) (int, error) {
	var row appRow
	err := r.cfg.DB.WithContext(ctx).Where("url = ?", url).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, engine.Errorf(engine.ENotFound, "no app at %s", url)
	}
	if err != nil {
		return 0, fmt.Errorf("remove app %s: %w", url, err)
	}
	if err := r.cfg.DB.WithContext(ctx).Exec(`DELETE FROM sdk_apps WHERE url = ?`, url).Error; err != nil {
		return 0, fmt.Errorf("remove app %s: %w", url, err)
	}
	if err := r.Load(ctx); err != nil {
		return 0, err
	}
	cancelled := 0
	for _, list := range []string{row.Functions, row.Archived} {
		var fcs []FunctionConfig
		_ = json.Unmarshal([]byte(list), &fcs) // stored by store(): valid, or nothing to cancel
		for _, fc := range fcs {
			n, err := r.cfg.Engine.CancelFunctionRuns(ctx, fc.ID, "cancelled: its app "+url+" was removed")
			cancelled += n
			if err != nil {
				return cancelled, err
			}
		}
	}
	return cancelled, nil
}

// engineFunction is fc as an engine function whose handler calls the app. Archived functions
// have no triggers: they only finish the runs they have.
func (r *Registry) engineFunction(appURL, sdkName string, fc FunctionConfig, archived bool) *engine.Function {
	d := &driver{reg: r, app: appURL, sdk: sdkName, fn: fc}
	f := &engine.Function{ID: fc.ID, Name: fc.Name, Handler: d.handle}
	f.Flow, _ = functionFlow(fc)
	if !archived {
		for _, t := range fc.Triggers {
			ev := t.Event
			if ev == EventFunctionFailed {
				ev = engine.EventRunFailed // inkflow's name for it: its data has function_id too
			}
			f.Triggers = append(f.Triggers, engine.Trigger{Event: ev, If: t.Expression, Cron: t.Cron})
		}
	}
	return f
}

func msTime(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := time.UnixMilli(*v).UTC()
	return &t
}
