import { randomUUID } from 'node:crypto';
import { ReplayGuard, generateRecipientKeyPair, open, openPassword, seal, sealPassword, SealedSecretError } from './index';

const nt4 = generateRecipientKeyPair('nt4-1');
const other = generateRecipientKeyPair('nt4-1');
const command = { commandId: randomUUID(), connector: 'nt4-contoso', anchor: 'S-1-5-21-1-2-3-1001', op: 'set' as const, expiresAt: '2026-11-23T12:15:00.000Z' };

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SealedSecretError);
    return (e as SealedSecretError).reason;
  }
  throw new Error('opened');
}

describe('sealed box', () => {
  it('round-trips for the recipient and hides the plaintext', () => {
    const sealed = seal('Tr0ub4dor&3', nt4, 'aad');
    expect(JSON.stringify(sealed)).not.toContain('Tr0ub4dor');
    expect(Buffer.from(sealed.ct, 'base64').toString('utf8')).not.toContain('Tr0ub4dor');
    expect(open(sealed, [nt4], 'aad')).toBe('Tr0ub4dor&3');
  });

  it('uses a fresh ephemeral key and IV every time', () => {
    const a = seal('x', nt4, 'aad');
    const b = seal('x', nt4, 'aad');
    expect(a.epk).not.toBe(b.epk);
    expect(a.iv).not.toBe(b.iv);
  });

  it('refuses the wrong key, other associated data, altered ciphertext, an unknown kid', () => {
    const sealed = seal('secret', nt4, 'aad');
    expect(reason(() => open(sealed, [other], 'aad'))).toBe('tampered');
    expect(reason(() => open(sealed, [nt4], 'other-aad'))).toBe('tampered');
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0]! ^= 1;
    expect(reason(() => open({ ...sealed, ct: ct.toString('base64') }, [nt4], 'aad'))).toBe('tampered');
    expect(reason(() => open({ ...sealed, kid: 'nope' }, [nt4], 'aad'))).toBe('unknown-key');
    expect(reason(() => open({ ...sealed, alg: 'RSA1_5' }, [nt4], 'aad'))).toBe('unsupported-algorithm');
    expect(reason(() => open({ ...sealed, epk: 'AAAA' }, [nt4], 'aad'))).toBe('malformed');
  });

  it('error messages never carry the secret', () => {
    const sealed = seal('Hunter2!', nt4, 'aad');
    try {
      open(sealed, [other], 'aad');
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('Hunter2');
    }
  });
});

describe('password seal', () => {
  it('binds the secret to its command', () => {
    const sealed = sealPassword({ newPassword: 'N3w!pass' }, nt4, command);
    expect(openPassword({ ...command, sealed }, [nt4])).toEqual({ newPassword: 'N3w!pass' });
    // Moved into another command (other id, other account, later expiry): refused.
    expect(reason(() => openPassword({ ...command, commandId: randomUUID(), sealed }, [nt4]))).toBe('tampered');
    expect(reason(() => openPassword({ ...command, anchor: 'S-1-5-21-1-2-3-500', sealed }, [nt4]))).toBe('tampered');
    expect(reason(() => openPassword({ ...command, expiresAt: '2027-01-01T00:00:00.000Z', sealed }, [nt4]))).toBe('tampered');
  });

  it('a change must prove the old password', () => {
    const change = { ...command, op: 'change' as const };
    const sealed = sealPassword({ newPassword: 'N3w!pass' }, nt4, change);
    expect(reason(() => openPassword({ ...change, sealed }, [nt4]))).toBe('malformed');
    const ok = sealPassword({ newPassword: 'N3w!pass', oldPassword: 'Old!pass1' }, nt4, change);
    expect(openPassword({ ...change, sealed: ok }, [nt4])).toEqual({ newPassword: 'N3w!pass', oldPassword: 'Old!pass1' });
  });
});

describe('ReplayGuard', () => {
  it('admits a command id once, and nothing expired', () => {
    let now = 1000;
    const guard = new ReplayGuard(() => now);
    expect(guard.admit('a', 2000)).toBe(true);
    expect(guard.admit('a', 2000)).toBe(false);
    expect(guard.admit('b', 999)).toBe(false);
    now = 3000;
    expect(guard.admit('c', 4000)).toBe(true);
  });
});
