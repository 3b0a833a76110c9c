import { SignJWT, importPKCS8 } from 'jose';
import { TokenIssuer, TokenRejected, TokenVerifier, generateSigningKeyPair, hasRole, splitPemKeys } from './index';

const keys = generateSigningKeyPair();
const rotated = generateSigningKeyPair();
const stranger = generateSigningKeyPair();
const verifier = new TokenVerifier({ publicKeysPem: [rotated.publicKeyPem, keys.publicKeyPem], issuer: 'metaweave', audience: 'metaweave' });
const issuer = new TokenIssuer(keys.privateKeyPem, 'metaweave', 'metaweave');

async function refusal(token: string | undefined): Promise<string> {
  try {
    await verifier.verifyAuthorization(token);
  } catch (e) {
    expect(e).toBeInstanceOf(TokenRejected);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('bearer tokens', () => {
  it('accepts a token of any configured key and reads the roles', async () => {
    const token = await issuer.issue('alice', ['operators', 'browse']);
    await expect(verifier.verifyAuthorization(`Bearer ${token}`)).resolves.toEqual({ subject: 'alice', roles: ['operators', 'browse'] });
  });

  it('refuses with a reason that never quotes the token', async () => {
    const foreign = await new TokenIssuer(stranger.privateKeyPem, 'metaweave', 'metaweave').issue('mallory', ['admins']);
    expect(await refusal(undefined)).toMatch(/missing bearer token/);
    expect(await refusal('Basic abc')).toMatch(/not "Bearer <token>"/);
    expect(await refusal(`Bearer ${foreign}`)).toBe('the bearer token is not signed by a configured key');
    expect(await refusal(`Bearer ${await issuer.issue('bob', ['browse'], -10)}`)).toMatch(/expired/);
    expect(await refusal(`Bearer ${await new TokenIssuer(keys.privateKeyPem, 'someone-else', 'metaweave').issue('bob', [])}`)).toMatch(/"iss" claim/);
    expect(await refusal('Bearer abc.def.ghi')).toBe('the bearer token is malformed');
    expect(await refusal(`Bearer ${foreign}`)).not.toContain(foreign.slice(10, 40));
  });

  it('refuses an unsigned token (alg none)', async () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'x', roles: ['admins'], iss: 'metaweave', aud: 'metaweave', exp: 9999999999 })).toString('base64url');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect(await refusal(`Bearer ${none}`)).toMatch(/malformed|algorithm/);
  });

  it('ignores unknown roles and requires sub and exp', async () => {
    const key = await importPKCS8(keys.privateKeyPem, 'EdDSA');
    const odd = await new SignJWT({ roles: ['root', 'browse'] }).setProtectedHeader({ alg: 'EdDSA' }).setSubject('eve').setIssuer('metaweave').setAudience('metaweave').setExpirationTime('1h').sign(key);
    await expect(verifier.verify(odd)).resolves.toEqual({ subject: 'eve', roles: ['browse'] });
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setSubject('eve').setIssuer('metaweave').setAudience('metaweave').sign(key);
    expect(await refusal(`Bearer ${noExp}`)).toMatch(/"exp" claim/);
  });

  it('admins hold every role; others only their own', () => {
    expect(hasRole({ subject: 'a', roles: ['admins'] }, ['password-set'])).toBe(true);
    expect(hasRole({ subject: 'o', roles: ['operators'] }, ['browse'])).toBe(false);
    expect(hasRole({ subject: 'o', roles: ['operators'] }, ['operators', 'browse'])).toBe(true);
  });

  it('splits concatenated PEM keys', () => {
    expect(splitPemKeys(`${keys.publicKeyPem}\n${rotated.publicKeyPem}`)).toHaveLength(2);
  });
});
