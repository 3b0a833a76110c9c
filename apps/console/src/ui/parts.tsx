import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import type { Role } from '../session/token';
import { useSession, useSessionContext } from '../session/session';

export function Loading(props: { what: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      Loading {props.what}…
    </p>
  );
}

export function Empty(props: { children: ReactNode }) {
  return <p className="state empty">{props.children}</p>;
}

function errorTitle(e: ApiError | null): string {
  if (!e) return 'Something went wrong';
  if (e.status === 0) return 'Cannot reach the server';
  if (e.status === 401) return 'Session refused';
  if (e.status === 403) return 'Not allowed';
  if (e.status === 404) return 'Not found';
  if (e.status === 400 || e.status === 409 || e.status === 422) return 'Request refused';
  if (e.status >= 500) return 'Service problem';
  return 'Something went wrong';
}

/** An error as the user can act on it: the server's reason, per-field problems, and a retry. */
export function ErrorBox(props: { error: Error; retry?: () => void }) {
  const e = props.error;
  const api = e instanceof ApiError ? e : null;
  const { logout } = useSessionContext();
  return (
    <div className="state error" role="alert">
      <strong>{errorTitle(api)}</strong>
      <p>{e.message}</p>
      {api && api.errors.length > 0 && (
        <ul>
          {api.errors.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ul>
      )}
      {api?.unauthenticated ? (
        <button type="button" onClick={logout}>
          Log in again
        </button>
      ) : (
        props.retry && (
          <button type="button" onClick={props.retry}>
            Retry
          </button>
        )
      )}
    </div>
  );
}

/**
 * A button for an action that needs a role. Without the role it stays visible but disabled, and
 * says which role it needs (the server refuses the call anyway).
 */
export function RoleButton(props: { roles: Role[]; onClick?: () => void; children: ReactNode; type?: 'button' | 'submit'; busy?: boolean; className?: string; disabled?: boolean }) {
  const session = useSession();
  const allowed = session.can(...props.roles);
  const need = `needs the ${props.roles.join(' or ')} role`;
  return (
    <button
      type={props.type ?? 'button'}
      className={props.className}
      onClick={props.onClick}
      disabled={!allowed || props.busy || props.disabled}
      aria-disabled={!allowed || props.busy || props.disabled}
      title={allowed ? undefined : `Your token ${need}`}
      data-role-gated={allowed ? 'allowed' : 'denied'}
    >
      {props.children}
      {!allowed && <span className="need-role"> ({need})</span>}
    </button>
  );
}

export function StatusBadge(props: { status: string }) {
  return <span className={`badge status-${props.status}`}>{props.status}</span>;
}

export function Section(props: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const id = props.id ?? props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return (
    <section aria-labelledby={id} className="panel">
      <div className="panel-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}
