import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenIssuer, generateSigningKeyPair } from '@metaweave/auth';
import { generateRecipientKeyPair } from '@metaweave/secrets';
import { ServiceProcess, waitFor } from '@metaweave/testing';
import { Pipeline } from './harness';

/** The password service's start-up: configuration refused with the key named (exit 78), and HTTPS when given a key and certificate. */
jest.setTimeout(240_000);

const p = new Pipeline();
const recipient = generateRecipientKeyPair('k1');
const good = {
  MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: 'nt4-contoso', domain: 'CONTOSO', kid: recipient.kid, publicKeyPem: recipient.publicKeyPem }]),
  MW_AUTH_PUBLIC_KEYS: generateSigningKeyPair().publicKeyPem,
};

afterAll(() => p.dispose());

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('password service start-up', () => {
  it('refuses a connector key that is not X25519, and auth keys that are not PEM, naming each setting (exit 78)', async () => {
    const env = await p.env('password-service', {
      MW_PASSWORD_CONNECTORS: JSON.stringify([{ connector: 'nt4-contoso', domain: 'CONTOSO', kid: 'k', publicKeyPem: generateSigningKeyPair().publicKeyPem }]),
      MW_AUTH_PUBLIC_KEYS: 'not a key',
    });
    const service = new ServiceProcess({ name: 'password-service', env }).start();
    expect(await service.waitExit()).toBe(78);
    expect(service.logs).toContain('MW_PASSWORD_CONNECTORS.0.publicKeyPem: is a ed25519 key; an X25519 public key is required');
    expect(service.logs).toContain('MW_AUTH_PUBLIC_KEYS: expected one or more PEM public keys');
  });

  it('without connectors and token keys it runs but refuses every call (fail closed) and says why', async () => {
    const env = await p.env('password-service');
    // The harness configures both for every service; this start-up has neither.
    delete env['MW_AUTH_PUBLIC_KEYS'];
    delete env['MW_PASSWORD_CONNECTORS'];
    const service = new ServiceProcess({ name: 'password-service', env }).start();
    p.processes['password-service'] = service;
    try {
      await service.waitReady(Number(env['MW_HTTP_PORT']));
      const forged = await new TokenIssuer(generateSigningKeyPair().privateKeyPem, 'metaweave', 'metaweave').issue('mallory', ['admins']);
      const res = await fetch(`http://127.0.0.1:${env['MW_HTTP_PORT']}/api/v1/persons/${'0'.repeat(8)}-0000-4000-8000-000000000001/password`, {
        method: 'POST',
        headers: { authorization: `Bearer ${forged}`, 'content-type': 'application/json' },
        body: JSON.stringify({ newPassword: 'whatever-1A' }),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { detail: string }).detail).toBe('this service has no token signing key configured (MW_AUTH_PUBLIC_KEYS), so it accepts no token');
      expect(service.logs).toContain('no token signing key configured (MW_AUTH_PUBLIC_KEYS)');
      expect(service.logs).toContain('no NT4 connector configured (MW_PASSWORD_CONNECTORS)');
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });

  it('serves HTTPS when MW_TLS_CERT_FILE and MW_TLS_KEY_FILE are set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-password-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const env = await p.env('password-service', { ...good, MW_TLS_CERT_FILE: join(dir, 'cert.pem'), MW_TLS_KEY_FILE: join(dir, 'key.pem') });
    const service = new ServiceProcess({ name: 'password-service', env }).start();
    p.processes['password-service'] = service;
    const ca = readFileSync(join(dir, 'cert.pem'));
    const base = `https://127.0.0.1:${env['MW_HTTP_PORT']}`;
    await waitFor('the service ready over HTTPS', async () => {
      if (!service.running) throw new Error(`exited ${service.exitCode}: ${service.logs.slice(-2000)}`);
      return (await httpsGet(`${base}/health/ready`, ca).catch(() => undefined))?.status === 200 ? true : undefined;
    }, 120_000, 250);
    const doc = await httpsGet(`${base}/api/v1/openapi.json`, ca);
    expect(doc.status).toBe(200);
    expect(JSON.parse(doc.body).openapi).toBe('3.1.0');
    // Plain HTTP on the same port is not served.
    await expect(fetch(`http://127.0.0.1:${env['MW_HTTP_PORT']}/health/ready`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status)).rejects.toThrow();
    expect(await service.stop()).toBe(0);
  });
});
