import { useState, type FormEvent } from 'react';
import type { PasswordOperation } from '../api/types';
import { href } from '../router';
import { useSession } from '../session/session';
import { formatTime } from '../ui/format';
import { useLoad } from '../ui/hooks';
import { ErrorBox, Loading, RoleButton, Section, StatusBadge } from '../ui/parts';

/**
 * Password set (admin reset, password-set role) and change (old password as proof).
 *
 * The password fields are uncontrolled: their value lives in the input element only, is read once
 * on submit into the request body, and the fields are emptied before the request goes out. It is
 * never kept in React state, the URL, the history, storage or a log; the browser is asked not to
 * offer saving it.
 */
export function Passwords(props: { person?: string }) {
  const session = useSession();
  const [operationId, setOperationId] = useState<string | null>(null);
  return (
    <>
      <h1>Passwords</h1>
      <SetPassword person={props.person ?? ''} onAccepted={setOperationId} />
      <ChangePassword onAccepted={setOperationId} />
      {operationId && <OperationOutcome id={operationId} />}
      {!session.can('password-set') && <p className="help">Setting another person’s password needs the password-set role; changing an account’s password needs only its old password.</p>}
    </>
  );
}

function take(form: HTMLFormElement, name: string): string {
  const input = form.elements.namedItem(name) as HTMLInputElement;
  const value = input.value;
  input.value = '';
  return value;
}

function SetPassword(props: { person: string; onAccepted: (id: string) => void }) {
  const { api } = useSession();
  const [person, setPerson] = useState(props.person);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = e.currentTarget;
    const newPassword = take(f, 'set-new');
    const confirm = take(f, 'set-confirm');
    const forceChangeAtNextLogon = (f.elements.namedItem('set-force') as HTMLInputElement).checked;
    const unlock = (f.elements.namedItem('set-unlock') as HTMLInputElement).checked;
    if (newPassword !== confirm) {
      setError(new Error('The two passwords differ. Type the new password again in both fields.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const op = await api.setPassword(person.trim(), { newPassword, forceChangeAtNextLogon, unlock });
      props.onAccepted(op.operationId);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Set a person’s password">
      <form onSubmit={(e) => void submit(e)} autoComplete="off" className="stack-form">
        <div className="field">
          <label htmlFor="set-person">Person (metaverse object id)</label>
          <input id="set-person" value={person} onChange={(e) => setPerson(e.target.value)} required spellCheck={false} aria-describedby="set-person-help" />
          <p id="set-person-help" className="help">
            Find the person with <a href={href(['search'])}>Metaverse search</a> and use “Set password…” on their page.
          </p>
        </div>
        <div className="field">
          <label htmlFor="set-new">New password</label>
          <input id="set-new" name="set-new" type="password" autoComplete="off" required maxLength={256} data-secret="true" />
        </div>
        <div className="field">
          <label htmlFor="set-confirm">Confirm new password</label>
          <input id="set-confirm" name="set-confirm" type="password" autoComplete="off" required maxLength={256} data-secret="true" />
        </div>
        <div className="checks">
          <input id="set-force" name="set-force" type="checkbox" />
          <label htmlFor="set-force">User must change the password at next logon</label>
        </div>
        <div className="checks">
          <input id="set-unlock" name="set-unlock" type="checkbox" />
          <label htmlFor="set-unlock">Unlock the account</label>
        </div>
        <RoleButton roles={['password-set']} type="submit" busy={busy}>
          {busy ? 'Setting…' : 'Set password'}
        </RoleButton>
        {error && <ErrorBox error={error} />}
      </form>
    </Section>
  );
}

function ChangePassword(props: { onAccepted: (id: string) => void }) {
  const { api } = useSession();
  const [connector, setConnector] = useState('');
  const [anchor, setAnchor] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = e.currentTarget;
    const oldPassword = take(f, 'change-old');
    const newPassword = take(f, 'change-new');
    setBusy(true);
    setError(null);
    try {
      const op = await api.changePassword(connector.trim(), anchor.trim(), { oldPassword, newPassword });
      props.onAccepted(op.operationId);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Change an account’s password">
      <form onSubmit={(e) => void submit(e)} autoComplete="off" className="stack-form">
        <div className="field">
          <label htmlFor="change-connector">Connector</label>
          <input id="change-connector" value={connector} onChange={(e) => setConnector(e.target.value)} required placeholder="nt4-contoso" />
        </div>
        <div className="field">
          <label htmlFor="change-anchor">Account (objectSid)</label>
          <input id="change-anchor" value={anchor} onChange={(e) => setAnchor(e.target.value)} required placeholder="S-1-5-21-…" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="change-old">Old password</label>
          <input id="change-old" name="change-old" type="password" autoComplete="off" required maxLength={256} data-secret="true" />
        </div>
        <div className="field">
          <label htmlFor="change-new">New password for this account</label>
          <input id="change-new" name="change-new" type="password" autoComplete="off" required maxLength={256} data-secret="true" />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
        {error && <ErrorBox error={error} />}
      </form>
    </Section>
  );
}

function OperationOutcome(props: { id: string }) {
  const { api } = useSession();
  const op = useLoad<PasswordOperation>((signal) => api.passwordOperation(props.id, signal), [props.id], { pollMs: 1000, poll: (o) => o.status === 'pending' });
  return (
    <Section title="Outcome" id="password-outcome">
      <div aria-live="polite">
        {op.error ? (
          <ErrorBox error={op.error} retry={op.reload} />
        ) : !op.data ? (
          <Loading what="the outcome" />
        ) : (
          <>
            <p>
              Operation <code>{op.data.operationId}</code> ({op.data.op}) requested {formatTime(op.data.requestedAt)}: <StatusBadge status={op.data.status} />
            </p>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Connector</th>
                    <th scope="col">Result</th>
                    <th scope="col">Message</th>
                    <th scope="col">Completed</th>
                  </tr>
                </thead>
                <tbody>
                  {op.data.targets.map((t) => (
                    <tr key={t.commandId}>
                      <td>
                        {t.domain}\{t.accountName}
                      </td>
                      <td>{t.connector}</td>
                      <td>
                        <StatusBadge status={t.result} />
                      </td>
                      <td>{t.message ?? '—'}</td>
                      <td>{formatTime(t.completedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </div>
    </Section>
  );
}
