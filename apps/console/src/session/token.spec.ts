import { TokenIssuer, generateSigningKeyPair } from '@metaweave/auth';
import { allows, readToken, TokenUnreadable } from './token';

describe('readToken', () => {
  const keys = generateSigningKeyPair();
  const issuer = new TokenIssuer(keys.privateKeyPem, 'metaweave', 'metaweave');

  it('reads subject, roles and expiry of a token as `mw token` issues it', async () => {
    const token = await issuer.issue('alice', ['operators', 'browse'], 600);
    const info = readToken(`Bearer ${token}\n`);
    expect(info.subject).toBe('alice');
    expect(info.roles).toEqual(['operators', 'browse']);
    expect(info.expiresAt).toBeGreaterThan(Date.now());
  });

  it('refuses an expired token with what to do', async () => {
    const token = await issuer.issue('alice', ['browse'], 60);
    expect(() => readToken(token, Date.now() + 61_000)).toThrow(/expired.*mw token/);
  });

  it('refuses what is not a JWT without quoting it', () => {
    const pasted = 'my-password-by-mistake';
    try {
      readToken(pasted);
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(TokenUnreadable);
      expect((e as Error).message).not.toContain(pasted);
    }
  });
});

describe('allows', () => {
  it('grants what a role names, and everything to admins', () => {
    expect(allows(['browse'], 'operators')).toBe(false);
    expect(allows(['operators'], 'operators')).toBe(true);
    expect(allows(['joiners'], 'browse', 'password-set')).toBe(false);
    expect(allows(['password-set'], 'browse', 'password-set')).toBe(true);
    expect(allows(['admins'], 'joiners')).toBe(true);
    expect(allows([], 'browse')).toBe(false);
  });
});
