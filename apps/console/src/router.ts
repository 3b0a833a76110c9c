import { useEffect, useState } from 'react';

/**
 * Hash routing (`#/objects/<id>`, `#/search?type=person&attr=sid=S-1-…`): every object, run and
 * search has a link that survives a reload and is served by any static server. Only identifiers
 * and search terms go into a route — never a token or a password.
 */
export interface Route {
  /** Decoded path segments: `#/cs/nt4-contoso/S-1-5-…` → ['cs', 'nt4-contoso', 'S-1-5-…']. */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [path = '', qs = ''] = h.split('?', 2) as [string?, string?];
  const segments = path
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, query: new URLSearchParams(qs) };
}

/** Builds a hash link from segments (each encoded) and optional query parameters. */
export function href(segments: readonly string[], query?: URLSearchParams | Record<string, string>): string {
  const path = segments.map(encodeURIComponent).join('/');
  const qs = query ? (query instanceof URLSearchParams ? query : new URLSearchParams(query)).toString() : '';
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, '');
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseHash(hash);
}
