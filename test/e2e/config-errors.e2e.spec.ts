import { ServiceProcess } from '@metaweave/testing';
import { Pipeline, type ServiceName } from './harness';

jest.setTimeout(120_000);

const SERVICES: ServiceName[] = ['exchange-connector', 'nt4-connector', 'join-engine', 'password-service', 'projection-service'];

/** A service started with a missing or invalid setting exits non-zero naming the setting. */
describe('configuration validated at boot', () => {
  const p = new Pipeline();
  afterAll(() => p.admin.end());

  it.each(SERVICES)('%s names a missing and an invalid setting and exits 78', async (service) => {
    const env = await p.env(service);
    delete env['MW_KAFKA_BROKERS'];
    env['MW_HTTP_PORT'] = 'eighty';
    const proc = new ServiceProcess({ name: service, env }).start();
    expect(await proc.waitExit()).toBe(78);
    expect(proc.logs).toContain('MW_KAFKA_BROKERS: required but not set');
    expect(proc.logs).toMatch(/MW_HTTP_PORT: .*number/i);
  });

  it('never prints a secret it was given', async () => {
    const env = await p.env('exchange-connector', { MW_LDAP_BIND_PASSWORD: 'S3cret-Never-Printed', MW_LDAP_URL: 'http://wrong' });
    const proc = new ServiceProcess({ name: 'exchange-connector', env }).start();
    expect(await proc.waitExit()).toBe(78);
    expect(proc.logs).toContain('MW_LDAP_URL');
    expect(proc.logs).not.toContain('S3cret-Never-Printed');
  });
});
