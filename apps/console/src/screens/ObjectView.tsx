import { href } from '../router';
import { useSession } from '../session/session';
import { displayName, formatTime, formatValue } from '../ui/format';
import { useLoad } from '../ui/hooks';
import { ErrorBox, Loading, Section, StatusBadge } from '../ui/parts';

/** One metaverse object: attributes with each value's lineage, its connectors, its history. */
export function ObjectView(props: { id: string }) {
  const session = useSession();
  const o = useLoad((signal) => session.api.getObject(props.id, signal), [props.id]);
  if (o.error) return <ErrorBox error={o.error} retry={o.reload} />;
  if (!o.data) return <Loading what="the metaverse object" />;
  const obj = o.data;
  const names = Object.keys(obj.attributes).sort((a, b) => a.localeCompare(b));
  const last = obj.history[obj.history.length - 1];

  return (
    <>
      <h1>
        {displayName(obj.attributes)} <span className="subtle">{obj.objectType}</span>
      </h1>
      <dl className="facts">
        <dt>Id</dt>
        <dd>
          <code>{obj.id}</code>
        </dd>
        <dt>Version</dt>
        <dd>{obj.version}</dd>
        <dt>Last change</dt>
        <dd>
          {obj.reason} · {formatTime(obj.updatedAt)}
          {last?.correlationId && (
            <>
              {' '}
              · trace <code title="correlation id: find the trace of this change in your tracing backend">{last.correlationId}</code>
            </>
          )}
        </dd>
        <dt>Rules version</dt>
        <dd>
          <code>{obj.rulesVersion}</code>
        </dd>
        {obj.deleted && (
          <>
            <dt>State</dt>
            <dd>
              <StatusBadge status="deleted" />
            </dd>
          </>
        )}
      </dl>
      {obj.objectType === 'person' && session.can('password-set') && (
        <p>
          <a className="button-link" href={href(['passwords'], { person: obj.id })}>
            Set password…
          </a>
        </p>
      )}

      <Section title="Attributes and lineage">
        <div className="table-wrap">
          <table className="cards">
            <thead>
              <tr>
                <th scope="col">Attribute</th>
                <th scope="col">Values</th>
                <th scope="col">Contributed by</th>
                <th scope="col">Flow</th>
                <th scope="col">Rules version</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {names.map((name) => {
                const lineage = obj.attributeLineage[name] ?? [];
                const l = lineage[0];
                return (
                  <tr key={name} id={`attr-${name}`}>
                    <th scope="row">{name}</th>
                    <td data-label="Values">
                      <ul className="values">
                        {obj.attributes[name]!.map((v, i) => (
                          <li key={i}>
                            {typeof v === 'object' && 'ref' in v ? <a href={href(['objects', v.ref])}>{formatValue(v)}</a> : formatValue(v)}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td data-label="Contributed by">
                      {l ? (
                        <a href={href(['cs', l.connector, l.anchor])} title={`${l.connector} object ${l.anchor}`}>
                          {l.connector}
                        </a>
                      ) : (
                        <span className="subtle">no lineage recorded</span>
                      )}
                    </td>
                    <td data-label="Flow">{l ? <code>{l.flow}</code> : '—'}</td>
                    <td data-label="Rules version">{l ? <code title={l.rulesVersion}>{l.rulesVersion.slice(0, 12)}</code> : '—'}</td>
                    <td data-label="When">{l ? formatTime(l.at) : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </Section>

      <Section title="Connectors">
        {obj.connectors.length === 0 ? (
          <p className="state empty">No connector object is joined to this metaverse object.</p>
        ) : (
          <div className="table-wrap">
            <table className="cards">
              <thead>
                <tr>
                  <th scope="col">Connector</th>
                  <th scope="col">Distinguished name</th>
                  <th scope="col">State</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {obj.connectors.map((c) => (
                  <tr key={`${c.connector}/${c.anchor}`}>
                    <td data-label="Connector">
                      <a href={href(['cs', c.connector, c.anchor])}>{c.connector}</a>
                    </td>
                    <td data-label="Distinguished name" className="dn">{c.dn}</td>
                    <td data-label="State">
                      <StatusBadge status={c.state} />
                    </td>
                    <td data-label="Actions">
                      <a href={href(['preview', c.connector, c.anchor])}>Preview</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <Section title="History">
        <ol className="history">
          {[...obj.history].reverse().map((h) => (
            <li key={h.eventId}>
              v{h.version} <StatusBadge status={h.change} /> {formatTime(h.occurredAt)}
              {h.correlationId && (
                <span className="subtle">
                  {' '}
                  · trace <code>{h.correlationId}</code>
                </span>
              )}
            </li>
          ))}
        </ol>
      </Section>
    </>
  );
}
