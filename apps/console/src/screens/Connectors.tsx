import type { Run } from '../api/types';
import { href } from '../router';
import { useSession } from '../session/session';
import { formatTime } from '../ui/format';
import { useLoad } from '../ui/hooks';
import { Empty, ErrorBox, Loading, Section, StatusBadge } from '../ui/parts';

interface Partition {
  readonly connector: string;
  readonly partition: string;
  readonly last: Run;
  readonly lastByStep: ReadonlyMap<string, Run>;
}

/** Connectors and partitions as their run history shows them (newest runs first). */
export function partitionsFrom(runs: readonly Run[]): Partition[] {
  const out = new Map<string, { connector: string; partition: string; last: Run; lastByStep: Map<string, Run> }>();
  for (const r of runs) {
    const key = `${r.connector}/${r.partition}`;
    let p = out.get(key);
    if (!p) out.set(key, (p = { connector: r.connector, partition: r.partition, last: r, lastByStep: new Map() }));
    if (!p.lastByStep.has(r.step)) p.lastByStep.set(r.step, r);
  }
  return [...out.values()].sort((a, b) => `${a.connector}/${a.partition}`.localeCompare(`${b.connector}/${b.partition}`));
}

/** Connectors: each connector and partition with its state (its last run) and the last run of each step. */
export function Connectors() {
  const { api } = useSession();
  const runs = useLoad((signal) => api.listRuns({ limit: 500 }, signal), [], { pollMs: 10_000 });
  if (runs.error) return <ErrorBox error={runs.error} retry={runs.reload} />;
  if (!runs.data) return <Loading what="connectors" />;
  const parts = partitionsFrom(runs.data.runs);
  return (
    <>
      <h1>Connectors</h1>
      <p className="help">
        Each connector and partition that has run, with its last run per step. Start runs from <a href={href(['operations'])}>Operations</a>.
      </p>
      {parts.length === 0 ? (
        <Empty>No connector has run yet. Start one from Operations (e.g. a full import of an Exchange site).</Empty>
      ) : (
        parts.map((p) => (
          <Section key={`${p.connector}/${p.partition}`} title={`${p.connector} / ${p.partition}`} id={`connector-${p.connector}-${p.partition}`}>
            <p>
              State: <StatusBadge status={p.last.status} /> since {formatTime(p.last.endedAt ?? p.last.startedAt)} ({p.last.step})
            </p>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Step</th>
                    <th scope="col">Last run</th>
                    <th scope="col">Status</th>
                    <th scope="col">Errors</th>
                  </tr>
                </thead>
                <tbody>
                  {[...p.lastByStep.values()].map((r) => (
                    <tr key={r.step}>
                      <td>{r.step}</td>
                      <td>
                        <a href={href(['runs', r.runId])}>{formatTime(r.startedAt)}</a>
                      </td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td className="num">{r.errorCount}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Section>
        ))
      )}
    </>
  );
}
