import { useState, type FormEvent } from 'react';
import { useSessionContext } from '../session/session';
import { TokenUnreadable } from '../session/token';

/** Log in with a bearer token (from your identity provider, or `mw token` on a local stack). Kept in memory only. */
export function Login() {
  const { login } = useSessionContext();
  const [error, setError] = useState<string | null>(null);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const field = e.currentTarget.elements.namedItem('token') as HTMLTextAreaElement;
    const token = field.value;
    field.value = '';
    try {
      login(token);
      setError(null);
    } catch (err) {
      setError(err instanceof TokenUnreadable ? err.message : 'The token could not be read.');
    }
  }

  return (
    <main className="login" id="main">
      <h1>Metaweave console</h1>
      <form onSubmit={submit} autoComplete="off" aria-describedby="token-help">
        <label htmlFor="token">Bearer token</label>
        <textarea id="token" name="token" rows={5} spellCheck={false} autoComplete="off" required aria-invalid={error ? true : undefined} aria-describedby={error ? 'token-error token-help' : 'token-help'} />
        <p id="token-help" className="help">
          Paste a token from your identity provider, or on a local stack the output of <code>npx mw token --role admins</code>. It is kept in this tab’s memory only: reloading the page logs you out.
        </p>
        {error && (
          <p id="token-error" className="state error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Log in</button>
      </form>
    </main>
  );
}
