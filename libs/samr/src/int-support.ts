/**
 * Helpers of this library's integration tests (`*.int.spec.ts`) against the live Samba stand-in
 * of deploy/local/stack.sh. Not exported from index.ts.
 */
import { samrStandIn, stackEnv } from '@metaweave/testing';
import { SamrBridge, type SamrDomain } from './bridge';
import { isSamrError, type SamrError } from './errors';
import type { SamrConnectOptions } from './protocol';

/** How to reach the stand-in domain as its administrator. */
export function standInDomain(): SamrConnectOptions {
  const env = stackEnv();
  return samrStandIn(env);
}

/** A bridge connected to the stand-in; `close()` also deletes the accounts this test file made. */
export async function connectStandIn(prefix: string): Promise<{ bridge: SamrBridge; domain: SamrDomain; close(): Promise<void> }> {
  const bridge = await SamrBridge.start();
  const domain = await bridge.connect(standInDomain());
  return {
    bridge,
    domain,
    async close() {
      for (const g of await domain.listGroups().catch(() => [])) if (g.name.startsWith(prefix)) await domain.deleteGroup(g.rid, { removeMembers: true }).catch(() => undefined);
      for (const u of await domain.listUsers().catch(() => [])) if (u.accountName.startsWith(prefix)) await domain.deleteUser(u.rid).catch(() => undefined);
      await bridge.close();
    },
  };
}

/** Awaits `p` and expects it to fail with a SamrError of `status`. */
export async function expectStatus(p: Promise<unknown>, status: SamrError['status']): Promise<SamrError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSamrError(error) ? error.status : error).toBe(status);
  return error as SamrError;
}
