import { useSession } from '../session/session';
import { href } from '../router';
import { useLoad } from '../ui/hooks';
import { ErrorBox, Loading, Section } from '../ui/parts';
import { CsLookup } from './CsObject';

/** Renders any JSON answer as nested definition lists, readable without knowing its shape. */
export function Tree(props: { value: unknown }) {
  const v = props.value;
  if (v === null || v === undefined) return <span className="subtle">—</span>;
  if (typeof v !== 'object') return <span>{String(v)}</span>;
  if (Array.isArray(v)) {
    if (v.length === 0) return <span className="subtle">none</span>;
    return (
      <ol className="tree">
        {v.map((x, i) => (
          <li key={i}>
            <Tree value={x} />
          </li>
        ))}
      </ol>
    );
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return <span className="subtle">none</span>;
  return (
    <dl className="tree">
      {entries.map(([k, x]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>
            <Tree value={x} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** Preview: what synchronization would do with one connector space object, without committing. */
export function Preview(props: { connector?: string; anchor?: string }) {
  return (
    <>
      <h1>Preview</h1>
      <p className="help">What a synchronization would do with one connector space object now — join candidates, projection, attribute flows, exports — without committing anything.</p>
      <CsLookup target="preview" {...(props.connector ? { connector: props.connector } : {})} {...(props.anchor ? { anchor: props.anchor } : {})} />
      {props.connector && props.anchor && <PreviewResult connector={props.connector} anchor={props.anchor} />}
    </>
  );
}

function PreviewResult(props: { connector: string; anchor: string }) {
  const { api } = useSession();
  const r = useLoad((signal) => api.preview(props.connector, props.anchor, signal), [props.connector, props.anchor]);
  return (
    <Section title={`${props.connector} ${props.anchor}`} id="preview-result" actions={<a href={href(['cs', props.connector, props.anchor])}>Open the object</a>}>
      {r.error ? <ErrorBox error={r.error} retry={r.reload} /> : r.loading && r.data === undefined ? <Loading what="the preview" /> : <Tree value={r.data} />}
    </Section>
  );
}
