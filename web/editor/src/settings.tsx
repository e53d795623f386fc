// The Settings panel: the workflow's triggers (each an event with an optional CEL condition,
// or a schedule) and its flow control config, one typed field per option (DESIGN.md, "Flow
// control"). The server checks what is typed (POST /api/workflows/validate, shortly after
// each edit) and each error is shown under the field it names (config.debounce.period).
import { configAt, POST_EVENT_PREFIX, setConfig, type TriggerSpec } from './draft';
import type { JSONObject, JSONValue } from './model';

const MAX_TRIGGERS = 10;
const MAX_CANCELS = 5;

interface Props {
  triggers: TriggerSpec[];
  config: JSONObject;
  /** problems maps a field the server named (triggers[0].if, config.debounce.period) to its message. */
  problems: Record<string, string>;
  events: string[];
  onTriggers: (t: TriggerSpec[]) => void;
  onConfig: (c: JSONObject, merge: string) => void;
  onClose: () => void;
}

type Path = (string | number)[];

/** fieldName is the server's name of a config path: config.concurrency[1].key. */
function fieldName(path: Path): string {
  return 'config' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

function testid(path: Path): string {
  return 'cfg-' + path.join('-');
}

export function SettingsPanel(p: Props) {
  const get = (path: Path) => configAt(p.config, path);
  const set = (path: Path, v: JSONValue | undefined) => p.onConfig(setConfig(p.config, path, v), fieldName(path));
  // Fields whose problem is shown next to them; the rest are listed at the end.
  const shown = new Set<string>();
  const problem = (field: string) =>
    shown.add(field) && p.problems[field] ? (
      <small className="wf-problem" data-testid="settings-problem" data-field={field}>
        {field}: {p.problems[field]}
      </small>
    ) : null;
  const text = (path: Path, label: string, placeholder: string, hint?: string) => (
    <label className="wf-field" key={path.join('.')}>
      <span className="wf-label">{label}</span>
      <input
        value={typeof get(path) === 'string' ? (get(path) as string) : ''}
        placeholder={placeholder}
        onChange={(e) => set(path, e.target.value)}
        data-testid={testid(path)}
        aria-invalid={p.problems[fieldName(path)] ? 'true' : undefined}
      />
      {hint && <small>{hint}</small>}
      {problem(fieldName(path))}
    </label>
  );
  const num = (path: Path, label: string, placeholder: string) => (
    <label className="wf-field" key={path.join('.')}>
      <span className="wf-label">{label}</span>
      <input
        type="number"
        value={typeof get(path) === 'number' ? String(get(path)) : ''}
        placeholder={placeholder}
        onChange={(e) => set(path, e.target.value === '' ? undefined : Number(e.target.value))}
        data-testid={testid(path)}
        aria-invalid={p.problems[fieldName(path)] ? 'true' : undefined}
      />
      {problem(fieldName(path))}
    </label>
  );
  const group = (title: string, what: string, key: string, children: React.ReactNode) => (
    <fieldset className="wf-settings-group" data-testid={`settings-${key}`}>
      <legend>{title}</legend>
      <small className="wf-muted">{what}</small>
      {problem(`config.${key}`)}
      {children}
    </fieldset>
  );
  const concurrency = (Array.isArray(get(['concurrency'])) ? (get(['concurrency']) as JSONValue[]) : []).length;
  const cancels = Array.isArray(get(['cancel'])) ? (get(['cancel']) as JSONValue[]) : [];
  const postUpdated = p.triggers.some((t) => t.event === `${POST_EVENT_PREFIX}updated`);

  return (
    <div className="wf-panel wf-settings" data-testid="settings-panel">
      <h2>
        Settings{' '}
        <button type="button" onClick={p.onClose} data-testid="settings-close">
          Close
        </button>
      </h2>
      <h3>Triggers</h3>
      <small className="wf-muted">Each starts a run: an event (with an optional CEL condition over event) or a schedule.</small>
      {problem('triggers')}
      {p.triggers.map((t, i) => (
        <div className="wf-trigger-row" key={i} data-testid={`settings-trigger-${i}`}>
          <select
            value={t.cron !== undefined ? 'cron' : 'event'}
            onChange={(e) => {
              const list = [...p.triggers];
              list[i] = e.target.value === 'cron' ? { cron: '0 4 * * *' } : { event: '' };
              p.onTriggers(list);
            }}
            data-testid={`trigger-${i}-type`}
          >
            <option value="event">Event</option>
            <option value="cron">Schedule</option>
          </select>
          {t.cron !== undefined ? (
            <label className="wf-field">
              <span className="wf-label">Cron (optional TZ=Area/City prefix)</span>
              <input
                value={t.cron}
                placeholder="TZ=Europe/Lisbon 0 4 * * *"
                onChange={(e) => p.onTriggers(p.triggers.map((x, j) => (j === i ? { cron: e.target.value } : x)))}
                data-testid={`trigger-${i}-cron`}
              />
              {problem(`triggers[${i}].cron`)}
            </label>
          ) : (
            <>
              <label className="wf-field">
                <span className="wf-label">Event</span>
                <input
                  list="wf-trigger-names"
                  value={t.event ?? ''}
                  placeholder="blog-post.updated"
                  onChange={(e) => p.onTriggers(p.triggers.map((x, j) => (j === i ? { ...x, event: e.target.value } : x)))}
                  data-testid={`trigger-${i}-event`}
                />
                {problem(`triggers[${i}].event`)}
              </label>
              <label className="wf-field">
                <span className="wf-label">If (CEL, optional)</span>
                <input
                  value={t.if ?? ''}
                  placeholder="event.data.total > 100"
                  onChange={(e) =>
                    p.onTriggers(
                      p.triggers.map((x, j) => {
                        if (j !== i) return x;
                        const { if: _drop, ...rest } = x;
                        return e.target.value ? { ...rest, if: e.target.value } : rest;
                      }),
                    )
                  }
                  data-testid={`trigger-${i}-if`}
                />
                {problem(`triggers[${i}].if`)}
              </label>
            </>
          )}
          {problem(`triggers[${i}]`)}
          <button type="button" onClick={() => p.onTriggers(p.triggers.filter((_, j) => j !== i))} data-testid={`trigger-${i}-remove`}>
            Remove
          </button>
        </div>
      ))}
      {p.triggers.length < MAX_TRIGGERS && (
        <button type="button" onClick={() => p.onTriggers([...p.triggers, { event: '' }])} data-testid="trigger-add">
          Add a trigger
        </button>
      )}

      <h3>Flow control</h3>
      <small className="wf-muted">
        Inngest's options, with its names. Keys are CEL over event (event.data.id); durations read 30s, 1m, 24h, 7d.
      </small>
      {group(
        'Concurrency',
        'At most this many runs execute a step at once (sleeping or waiting runs hold no slot), overall or per key. Up to two limits.',
        'concurrency',
        <>
          {[0, 1].slice(0, Math.min(concurrency + 1, 2)).map((i) => (
            <div className="wf-row" key={i}>
              {num(['concurrency', i, 'limit'], `Limit ${i + 1}`, 'e.g. 2')}
              {text(['concurrency', i, 'key'], 'Key', 'event.data.id (empty: overall)')}
            </div>
          ))}
        </>,
      )}
      {group(
        'Debounce',
        'A flurry of events (per key) starts one run, with the last event, once no new one came for the period.',
        'debounce',
        <>
          {postUpdated && get(['debounce']) === undefined && (
            <button
              type="button"
              onClick={() => p.onConfig(setConfig(p.config, ['debounce'], { period: '30s', key: 'event.data.id' }), 'config.debounce')}
              data-testid="debounce-suggest"
            >
              Debounce blog-post.updated: one run per post for a flurry of sends (30s)
            </button>
          )}
          {text(['debounce', 'period'], 'Period', '30s')}
          {text(['debounce', 'key'], 'Key', 'event.data.id')}
          {text(['debounce', 'timeout'], 'Timeout', '5m', 'The longest a stream of events can put the run off.')}
        </>,
      )}
      {group(
        'Throttle',
        'At most limit + burst runs start per period (per key); the rest are delayed, in order.',
        'throttle',
        <>
          {num(['throttle', 'limit'], 'Limit', '10')}
          {text(['throttle', 'period'], 'Period', '1m')}
          {num(['throttle', 'burst'], 'Burst', '0')}
          {text(['throttle', 'key'], 'Key', 'event.data.user_id')}
        </>,
      )}
      {group(
        'Rate limit',
        'At most this many runs start per period (per key); the rest are dropped.',
        'rateLimit',
        <>
          {num(['rateLimit', 'limit'], 'Limit', '1')}
          {text(['rateLimit', 'period'], 'Period', '24h')}
          {text(['rateLimit', 'key'], 'Key', 'event.data.id')}
        </>,
      )}
      {group(
        'Batch events',
        'Up to max size events (per key) start one run, when full or after the timeout.',
        'batchEvents',
        <>
          {num(['batchEvents', 'maxSize'], 'Max size', '100')}
          {text(['batchEvents', 'timeout'], 'Timeout', '10s')}
          {text(['batchEvents', 'key'], 'Key', 'event.data.account_id')}
        </>,
      )}
      {group('Idempotency', 'One run per key value in 24 hours.', 'idempotency', text(['idempotency'], 'Key', 'event.data.id'))}
      {group(
        'Priority',
        'Seconds ahead (or behind, negative) of other runs in the queue, -600 to 600.',
        'priority',
        text(['priority', 'run'], 'Run', "event.data.plan == 'pro' ? 120 : 0"),
      )}
      {group(
        'Singleton',
        'One run in progress per key (sleeping and waiting runs count): skip the new start, or cancel the run in progress.',
        'singleton',
        <>
          <label className="wf-field">
            <span className="wf-label">Mode</span>
            <select
              value={typeof get(['singleton', 'mode']) === 'string' ? (get(['singleton', 'mode']) as string) : ''}
              onChange={(e) => set(['singleton', 'mode'], e.target.value || undefined)}
              data-testid="cfg-singleton-mode"
            >
              <option value="">Off</option>
              <option value="skip">Skip the new start</option>
              <option value="cancel">Cancel the run in progress</option>
            </select>
            {problem('config.singleton.mode')}
          </label>
          {text(['singleton', 'key'], 'Key', 'event.data.id')}
        </>,
      )}
      {group(
        'Cancel on',
        'A run is cancelled when a matching event arrives (async is that event), even while it sleeps or waits.',
        'cancel',
        <>
          {cancels.map((_, i) => (
            <div className="wf-row" key={i}>
              {text(['cancel', i, 'event'], 'Event', 'blog-post.unpublished')}
              {text(['cancel', i, 'if'], 'If', 'event.data.id == async.data.id')}
              {text(['cancel', i, 'timeout'], 'Timeout', '1h')}
            </div>
          ))}
          {cancels.length < MAX_CANCELS && (
            <button type="button" onClick={() => set(['cancel', cancels.length], { event: '' })} data-testid="cancel-add">
              Add a cancel event
            </button>
          )}
        </>,
      )}
      {group(
        'Timeouts',
        'Cancel a run not started within start of being queued, or not finished within finish of starting.',
        'timeouts',
        <>
          {text(['timeouts', 'start'], 'Start', '10m')}
          {text(['timeouts', 'finish'], 'Finish', '1h')}
        </>,
      )}
      {group('Retries', 'How many times a failing step is retried (0 to 20; default 4).', 'retries', num(['retries'], 'Retries', '4'))}
      {(() => {
        const rest = Object.entries(p.problems).filter(([f]) => !shown.has(f));
        return rest.length === 0 ? null : (
          <div data-testid="settings-other-problems">
            {rest.map(([f, m]) => (
              <p className="wf-problem" key={f} data-testid="settings-problem" data-field={f}>
                {f}: {m}
              </p>
            ))}
          </div>
        );
      })()}
    </div>
  );
}
