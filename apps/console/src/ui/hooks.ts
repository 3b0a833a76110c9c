import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from '../api/client';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | Error | undefined;
  readonly loading: boolean;
  reload(): void;
}

/**
 * Loads with `load` whenever `deps` change, and again after `pollMs` while `poll(data)` says so
 * (true, or another delay in ms: faster while a run is in progress). Aborts the call in flight on change and unmount.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], options: { pollMs?: number; poll?: (data: T) => boolean | number; retry?: (error: Error) => number | false } = {}): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError | Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    setLoading(true);
    loadRef
      .current(ctrl.signal)
      .then((d) => {
        if (ctrl.signal.aborted) return;
        setData(d);
        setError(undefined);
        const { pollMs, poll } = optionsRef.current;
        const again = poll ? poll(d) : true;
        const ms = typeof again === 'number' ? again : again ? pollMs : 0;
        if (ms) timer = setTimeout(() => setTick((t) => t + 1), ms);
      })
      .catch((e: unknown) => {
        if (ctrl.signal.aborted || (e as Error).name === 'AbortError') return;
        setError(e as Error);
        const ms = optionsRef.current.retry?.(e as Error);
        if (ms) timer = setTimeout(() => setTick((t) => t + 1), ms);
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => {
      ctrl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick]);

  return { data, error, loading, reload };
}
