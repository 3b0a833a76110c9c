import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { ApiClient, type ApiBases } from '../api/client';
import { allows, readToken, type Role, type TokenInfo } from './token';

/**
 * The session lives in React state only: the token is never written to localStorage,
 * sessionStorage, cookies or the URL. Reloading the page logs out.
 */
export interface Session {
  readonly info: TokenInfo;
  readonly api: ApiClient;
  can(...roles: Role[]): boolean;
}

interface SessionContextValue {
  readonly session: Session | null;
  login(token: string): TokenInfo;
  logout(): void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function makeSession(info: TokenInfo, api: ApiClient): Session {
  return { info, api, can: (...roles: Role[]) => allows(info.roles, ...roles) };
}

export function SessionProvider(props: { children: ReactNode; bases?: ApiBases; initial?: Session | null }) {
  const [session, setSession] = useState<Session | null>(props.initial ?? null);
  const login = useCallback(
    (token: string) => {
      const info = readToken(token);
      const api = new ApiClient({ token: token.trim().replace(/^Bearer\s+/i, ''), ...(props.bases ? { bases: props.bases } : {}) });
      setSession(makeSession(info, api));
      return info;
    },
    [props.bases],
  );
  const logout = useCallback(() => setSession(null), []);
  const value = useMemo(() => ({ session, login, logout }), [session, login, logout]);
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}

export function useSessionContext(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSessionContext outside SessionProvider');
  return ctx;
}

/** The logged-in session (screens render only inside one). */
export function useSession(): Session {
  const s = useSessionContext().session;
  if (!s) throw new Error('no session');
  return s;
}
