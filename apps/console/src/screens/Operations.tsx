import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import type { Run, StartableStep } from '../api/types';
import { href, navigate } from '../router';
import { useSession } from '../session/session';
import { counterLabel, formatDuration, formatTime, orderedCounters, processed } from '../ui/format';
import { useLoad } from '../ui/hooks';
import { Empty, ErrorBox, Loading, RoleButton, Section, StatusBadge } from '../ui/parts';

const STEPS: StartableStep[] = ['delta-import', 'full-import', 'export'];
/** Poll fast while a run goes, slowly otherwise (new runs started elsewhere still appear). */
const FAST_MS = 1500;
const SLOW_MS = 10_000;

export function rate(run: Run, now = Date.now()): string | null {
  // Objects per second while a run goes or over a finished run; a held or stopped run has none.
  if (run.status !== 'running' && !run.endedAt) return null;
  const seconds = ((run.endedAt ? new Date(run.endedAt).getTime() : now) - new Date(run.startedAt).getTime()) / 1000;
  const n = processed(run.counters);
  if (seconds <= 0 || n === 0) return null;
  return `${(n / seconds).toFixed(n / seconds < 10 ? 1 : 0)}/s`;
}

function CounterSummary(props: { counters: Readonly<Record<string, number>> }) {
  const entries = orderedCounters(props.counters).filter(([, v]) => v > 0);
  if (entries.length === 0) return <span className="subtle">no changes</span>;
  return (
    <ul className="counters">
      {entries.map(([k, v]) => (
        <li key={k}>
          <span className="counter-name">{counterLabel(k)}</span> <span className="counter-value">{v}</span>
        </li>
      ))}
    </ul>
  );
}

/** Operations: runs newest first with MIIS counters and live progress; start a run; held deletes. */
export function Operations() {
  const { api } = useSession();
  const [connector, setConnector] = useState('');
  const runs = useLoad((signal) => api.listRuns({ limit: 50, ...(connector ? { connector } : {}) }, signal), [connector], {
    pollMs: SLOW_MS,
    poll: (d) => (d.runs.some((r) => r.status === 'running') ? FAST_MS : SLOW_MS),
  });
  const anyRunning = runs.data?.runs.some((r) => r.status === 'running') ?? false;
  const known = [...new Set(runs.data?.runs.map((r) => `${r.connector}/${r.partition}`) ?? [])].sort();

  return (
    <>
      <h1>Operations</h1>
      <StartRun known={known} onStarted={runs.reload} />
      <HeldDeletes />
      <Section
        title="Runs"
        actions={
          <div className="inline-field">
            <label htmlFor="runs-connector">Connector</label>
            <select id="runs-connector" value={connector} onChange={(e) => setConnector(e.target.value)}>
              <option value="">all</option>
              {[...new Set(known.map((k) => k.split('/')[0]!))].map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </div>
        }
      >
        <p className="subtle live" aria-live="polite">
          {anyRunning ? `A run is in progress — refreshing every ${FAST_MS / 1000} s.` : `Refreshing every ${SLOW_MS / 1000} s.`}
        </p>
        {runs.error && <ErrorBox error={runs.error} retry={runs.reload} />}
        {!runs.data ? (
          !runs.error && <Loading what="runs" />
        ) : runs.data.runs.length === 0 ? (
          <Empty>No run yet. Start a run profile above, or wait for a scheduled one.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="runs cards">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Connector / partition</th>
                  <th scope="col">Step</th>
                  <th scope="col">Status</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Rate</th>
                  <th scope="col">Counters</th>
                  <th scope="col">Errors</th>
                </tr>
              </thead>
              <tbody>
                {runs.data.runs.map((r) => (
                  <tr key={r.runId} className={r.status === 'running' ? 'running' : undefined}>
                    <td data-label="Started" className="when">
                      <a href={href(['runs', r.runId])}>{formatTime(r.startedAt)}</a>
                    </td>
                    <td data-label="Connector / partition">
                      {r.connector} / {r.partition}
                    </td>
                    <td data-label="Step" className="nowrap">{r.step}</td>
                    <td data-label="Status">
                      <StatusBadge status={r.status} />
                    </td>
                    <td data-label="Duration">{r.endedAt || r.status === 'running' ? formatDuration(r.startedAt, r.endedAt) : '—'}</td>
                    <td data-label="Rate">{rate(r) ?? '—'}</td>
                    <td data-label="Counters">
                      <CounterSummary counters={r.counters} />
                    </td>
                    <td data-label="Errors">{r.errorCount > 0 ? <a href={href(['runs', r.runId])} aria-label={`${r.errorCount} errors: open the run`}>{r.errorCount}</a> : 0}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}

function StartRun(props: { known: string[]; onStarted: () => void }) {
  const { api } = useSession();
  const [target, setTarget] = useState('');
  const [step, setStep] = useState<StartableStep>('delta-import');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [started, setStarted] = useState<string | null>(null);
  const chosen = target || props.known[0] || '';

  async function submit(e: FormEvent) {
    e.preventDefault();
    const [connector, partition] = chosen.split('/') as [string, string | undefined];
    if (!connector || !partition) {
      setError(new Error('Give the connector and partition as connector/partition, e.g. exchange/SiteA.'));
      return;
    }
    setBusy(true);
    setError(null);
    setStarted(null);
    try {
      const r = await api.startRun({ connector, partition, step });
      setStarted(r.runId ? `Started ${step} on ${connector}/${partition}.` : `${step} on ${connector}/${partition} accepted.`);
      props.onStarted();
      if (r.runId) navigate(href(['runs', r.runId]));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Start a run profile">
      <form className="inline-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="run-target">Connector / partition</label>
          <input id="run-target" list="run-targets" value={chosen} onChange={(e) => setTarget(e.target.value)} placeholder="exchange/SiteA" />
          <datalist id="run-targets">
            {props.known.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="run-step">Step</label>
          <select id="run-step" value={step} onChange={(e) => setStep(e.target.value as StartableStep)}>
            {STEPS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <RoleButton roles={['operators']} type="submit" busy={busy}>
          {busy ? 'Starting…' : 'Start run'}
        </RoleButton>
      </form>
      {started && <p role="status">{started}</p>}
      {error && <ErrorBox error={error} />}
    </Section>
  );
}

function HeldDeletes() {
  const { api } = useSession();
  const held = useLoad((signal) => api.heldDeletes(signal), [], { pollMs: SLOW_MS });
  const [result, setResult] = useState<{ id: string; ok: boolean; message: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  async function approve(id: string) {
    setBusy(id);
    setResult(null);
    try {
      await api.approveHeldDelete(id);
      setResult({ id, ok: true, message: 'Approved: the held deletes go ahead.' });
      held.reload();
    } catch (err) {
      setResult({ id, ok: false, message: err instanceof ApiError ? err.message : String(err) });
    } finally {
      setBusy(null);
      setConfirming(null);
    }
  }

  return (
    <Section title="Held deletes">
      {held.error ? (
        <ErrorBox error={held.error} retry={held.reload} />
      ) : !held.data ? (
        <Loading what="held deletes" />
      ) : held.data.heldDeletes.length === 0 ? (
        <Empty>No deletes are waiting for approval.</Empty>
      ) : (
        <ul className="held">
          {held.data.heldDeletes.map((h) => (
            <li key={h.id}>
              <span>
                <strong>{h.deletes ?? '?'} deletes</strong> held by {h.step} on {h.connector} / {h.partition} since {formatTime(h.startedAt)} —{' '}
                <a href={href(['runs', h.runId])}>see the run</a>
                {h.message && <span className="subtle"> · {h.message}</span>}
              </span>
              {confirming === h.id ? (
                <span className="confirm" role="group" aria-label={`Confirm approving ${h.deletes ?? ''} deletes`}>
                  <RoleButton roles={['admins']} onClick={() => void approve(h.id)} busy={busy === h.id} className="danger">
                    {busy === h.id ? 'Approving…' : `Yes, delete ${h.deletes ?? 'them'}`}
                  </RoleButton>
                  <button type="button" className="secondary" onClick={() => setConfirming(null)}>
                    Cancel
                  </button>
                </span>
              ) : (
                <RoleButton roles={['admins']} onClick={() => setConfirming(h.id)}>
                  Approve
                </RoleButton>
              )}
            </li>
          ))}
        </ul>
      )}
      {result && (
        <p className={result.ok ? 'state ok' : 'state error'} role={result.ok ? 'status' : 'alert'}>
          {result.message}
        </p>
      )}
    </Section>
  );
}

/** One run: all counters, and its per-object errors linked to their objects. */
export function RunView(props: { runId: string }) {
  const { api } = useSession();
  const run = useLoad((signal) => api.getRun(props.runId, signal), [props.runId], {
    pollMs: FAST_MS,
    poll: (r) => r.status === 'running',
    // A run just started reaches the read model with its first event, a moment later: keep looking.
    retry: (e) => (e instanceof ApiError && e.status === 404 ? FAST_MS : false),
  });
  if (run.error && !run.data && run.error instanceof ApiError && run.error.status === 404) {
    return (
      <p className="state loading" role="status" aria-live="polite">
        Run <code>{props.runId}</code> is not in the run history yet. A run that has just started appears when its first event reaches the read model; this page keeps checking every {FAST_MS / 1000} s.
      </p>
    );
  }
  if (run.error) return <ErrorBox error={run.error} retry={run.reload} />;
  if (!run.data) return <Loading what="the run" />;
  const r = run.data;
  return (
    <>
      <h1>
        {r.step} on {r.connector} / {r.partition} <StatusBadge status={r.status} />
      </h1>
      <dl className="facts">
        <dt>Started</dt>
        <dd>{formatTime(r.startedAt)}</dd>
        <dt>Ended</dt>
        <dd>{r.endedAt ? formatTime(r.endedAt) : 'still running'}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(r.startedAt, r.endedAt)}</dd>
        <dt>Rate</dt>
        <dd>{rate(r) ?? '—'}</dd>
        {r.message && (
          <>
            <dt>Message</dt>
            <dd>{r.message}</dd>
          </>
        )}
      </dl>
      <Section title="Counters">
        <div className="table-wrap">
          <table className="counter-table">
            <tbody>
              {orderedCounters(r.counters).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{counterLabel(k)}</th>
                  <td className="num">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      <Section title={`Errors (${r.errorCount})`} id="errors">
        {r.errors.length === 0 ? (
          <Empty>No per-object error in this run.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="cards">
              <thead>
                <tr>
                  <th scope="col">Object (DN)</th>
                  <th scope="col">Error type</th>
                  <th scope="col">Message</th>
                  <th scope="col">First occurred</th>
                  <th scope="col">Retries</th>
                </tr>
              </thead>
              <tbody>
                {r.errors.map((e, i) => (
                  <tr key={`${e.anchor ?? e.dn ?? ''}-${i}`}>
                    <td data-label="Object (DN)" className="dn">{e.anchor ? <a href={href(['cs', r.connector, e.anchor])}>{e.dn ?? e.anchor}</a> : (e.dn ?? '—')}</td>
                    <td data-label="Error type">
                      <code>{e.type}</code>
                    </td>
                    <td data-label="Message">{e.message}</td>
                    <td data-label="First occurred">{formatTime(e.firstOccurred)}</td>
                    <td data-label="Retries" className="num">{e.retryCount}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {r.errors.length < r.errorCount && <p className="subtle">The first {r.errors.length} of {r.errorCount} errors are shown.</p>}
      </Section>
    </>
  );
}
