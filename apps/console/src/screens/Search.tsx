import { useState, type FormEvent } from 'react';
import { href, navigate, type Route } from '../router';
import { useSession } from '../session/session';
import { displayName, formatTime, formatValue } from '../ui/format';
import { useLoad } from '../ui/hooks';
import { Empty, ErrorBox, Loading, Section } from '../ui/parts';

const TYPES = ['person', 'contact', 'group'];
const ATTRIBUTES = ['sid', 'ntAccount', 'uid', 'mail', 'displayName', 'cn', 'sn', 'givenName'];
const PAGE = 25;

type Filter = { name: string; value: string };

function filtersFrom(route: Route): Filter[] {
  return route.query.getAll('attr').map((a) => {
    const i = a.indexOf('=');
    return { name: a.slice(0, i), value: a.slice(i + 1) };
  });
}

/** Metaverse search: object type and attribute filters → results; the search is in the URL (deep link). */
export function Search(props: { route: Route }) {
  const { api } = useSession();
  const q = props.route.query;
  const submitted = q.has('run');
  const type = q.get('type') ?? '';
  const offset = Number(q.get('offset') ?? 0) || 0;
  const current = filtersFrom(props.route);
  const [draftType, setDraftType] = useState(type || 'person');
  const [draft, setDraft] = useState<Filter[]>(current.length ? current : [{ name: 'sid', value: '' }]);

  const result = useLoad(
    (signal) =>
      submitted
        ? api.searchObjects({ ...(type ? { type } : {}), filters: current.map((f) => [f.name, f.value] as const), limit: PAGE, offset }, signal)
        : Promise.resolve(undefined),
    [q.toString()],
  );

  function search(e: FormEvent) {
    e.preventDefault();
    const p = new URLSearchParams();
    if (draftType) p.set('type', draftType);
    for (const f of draft) if (f.name && f.value.trim()) p.append('attr', `${f.name}=${f.value.trim()}`);
    p.set('run', '1');
    const to = href(['search'], p);
    // The same search again: the URL does not change, so ask for fresh results.
    if (window.location.hash === to) result.reload();
    else navigate(to);
  }

  function page(to: number) {
    const p = new URLSearchParams(q);
    p.set('offset', String(to));
    navigate(href(['search'], p));
  }

  return (
    <>
      <h1>Metaverse search</h1>
      <form className="search-form" onSubmit={search} role="search" aria-label="Metaverse search">
        <div className="field">
          <label htmlFor="search-type">Object type</label>
          <select id="search-type" value={draftType} onChange={(e) => setDraftType(e.target.value)}>
            <option value="">any type</option>
            {TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <fieldset>
          <legend>Attribute filters (exact values; a SID string matches a binary SID)</legend>
          {draft.map((f, i) => (
            <div className="filter-row" key={i}>
              <label htmlFor={`attr-name-${i}`} className="sr-only">
                Attribute {i + 1}
              </label>
              <input id={`attr-name-${i}`} list="attribute-names" value={f.name} onChange={(e) => setDraft(draft.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} />
              <span aria-hidden="true">=</span>
              <label htmlFor={`attr-value-${i}`} className="sr-only">
                Value of attribute {i + 1}
              </label>
              <input id={`attr-value-${i}`} value={f.value} placeholder={f.name === 'sid' ? 'S-1-5-21-…' : 'value'} onChange={(e) => setDraft(draft.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
              <button type="button" className="link" onClick={() => setDraft(draft.filter((_, j) => j !== i))} aria-label={`Remove filter ${i + 1}`}>
                Remove
              </button>
            </div>
          ))}
          <datalist id="attribute-names">
            {ATTRIBUTES.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <button type="button" className="secondary" onClick={() => setDraft([...draft, { name: 'mail', value: '' }])}>
            Add filter
          </button>
        </fieldset>
        <button type="submit">Search</button>
      </form>

      {submitted && (
        <Section title="Results">
          {result.error ? (
            <ErrorBox error={result.error} retry={result.reload} />
          ) : !result.data ? (
            <Loading what="results" />
          ) : result.data.objects.length === 0 ? (
            <Empty>No metaverse object matches. Check the filter values (they match exactly), or remove a filter.</Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table className="cards">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Type</th>
                      <th scope="col">Account</th>
                      <th scope="col">Connectors</th>
                      <th scope="col">Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {result.data.objects.map((o) => (
                      <tr key={o.id}>
                        <td data-label="Name">
                          <a href={href(['objects', o.id])}>{displayName(o.attributes)}</a>
                        </td>
                        <td data-label="Type">{o.objectType}</td>
                        <td data-label="Account">{o.attributes['ntAccount']?.map(formatValue).join(', ') ?? '—'}</td>
                        <td data-label="Connectors">{o.connectors.map((c) => c.connector).join(', ') || 'none'}</td>
                        <td data-label="Updated">{formatTime(o.updatedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav className="pager" aria-label="Result pages">
                <button type="button" className="secondary" disabled={offset === 0} onClick={() => page(Math.max(0, offset - PAGE))}>
                  Previous
                </button>
                <span>
                  {offset + 1}–{offset + result.data.count}
                </span>
                <button type="button" className="secondary" disabled={result.data.nextOffset === null} onClick={() => page(result.data!.nextOffset ?? offset)}>
                  Next
                </button>
              </nav>
            </>
          )}
        </Section>
      )}
    </>
  );
}
