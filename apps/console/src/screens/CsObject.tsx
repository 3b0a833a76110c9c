import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { href, navigate } from '../router';
import { useSession } from '../session/session';
import { displayName, formatTime } from '../ui/format';
import { useLoad } from '../ui/hooks';
import { Empty, ErrorBox, Loading, Section, StatusBadge } from '../ui/parts';

/** Form to open a connector space object by connector and anchor. */
export function CsLookup(props: { connector?: string; anchor?: string; target: 'cs' | 'preview' }) {
  const [connector, setConnector] = useState(props.connector ?? '');
  const [anchor, setAnchor] = useState(props.anchor ?? '');
  function open(e: FormEvent) {
    e.preventDefault();
    if (connector.trim() && anchor.trim()) navigate(href([props.target, connector.trim(), anchor.trim()]));
  }
  return (
    <form className="inline-form" onSubmit={open} aria-label={props.target === 'cs' ? 'Open a connector space object' : 'Preview a connector space object'}>
      <div className="field">
        <label htmlFor={`${props.target}-connector`}>Connector</label>
        <input id={`${props.target}-connector`} value={connector} onChange={(e) => setConnector(e.target.value)} placeholder="exchange" required />
      </div>
      <div className="field grow">
        <label htmlFor={`${props.target}-anchor`}>Anchor</label>
        <input id={`${props.target}-anchor`} value={anchor} onChange={(e) => setAnchor(e.target.value)} placeholder="objectGUID or objectSid" required />
      </div>
      <button type="submit">{props.target === 'cs' ? 'Open' : 'Preview'}</button>
    </form>
  );
}

/** One connector space object: the metaverse object it is joined to and its link state, and its exports. */
export function CsObject(props: { connector: string; anchor: string }) {
  const { api } = useSession();
  const link = useLoad((signal) => api.getConnectorObject(props.connector, props.anchor, signal), [props.connector, props.anchor]);
  const exports = useLoad((signal) => api.exports({ connector: props.connector, limit: 200 }, signal), [props.connector]);
  const mine = exports.data?.exports.filter((x) => x.anchor === props.anchor) ?? [];
  const disconnector = link.error instanceof ApiError && link.error.status === 404;

  return (
    <>
      <h1>
        {props.connector} object <code className="anchor">{props.anchor}</code>
      </h1>
      <CsLookup connector={props.connector} anchor={props.anchor} target="cs" />
      <p>
        <a href={href(['preview', props.connector, props.anchor])}>Preview its synchronization</a>
      </p>
      <Section title="Metaverse object">
        {link.error ? (
          disconnector ? (
            <Empty>{link.error.message} — preview it to see whether it would join or project.</Empty>
          ) : (
            <ErrorBox error={link.error} retry={link.reload} />
          )
        ) : !link.data ? (
          <Loading what="the link" />
        ) : (
          <dl className="facts">
            <dt>Distinguished name</dt>
            <dd className="dn">{link.data.dn}</dd>
            <dt>State</dt>
            <dd>
              <StatusBadge status={link.data.state} />
            </dd>
            <dt>Joined to</dt>
            <dd>
              <a href={href(['objects', link.data.mvObject.id])}>{displayName(link.data.mvObject.attributes)}</a> ({link.data.mvObject.objectType})
            </dd>
          </dl>
        )}
      </Section>
      <Section title="Exports">
        {exports.error ? (
          <ErrorBox error={exports.error} retry={exports.reload} />
        ) : !exports.data ? (
          <Loading what="exports" />
        ) : mine.length === 0 ? (
          <Empty>No export to this object among the connector’s latest 200.</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Operation</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {mine.map((x) => (
                  <tr key={x.exportId}>
                    <td>{formatTime(x.at)}</td>
                    <td>{x.op}</td>
                    <td>
                      <StatusBadge status={x.pending ? 'pending' : x.status} />
                    </td>
                    <td className="num">{x.attempt}</td>
                    <td>{x.error ? `${x.error.type ?? 'error'}: ${x.error.message ?? ''}` : '—'}</td>
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
