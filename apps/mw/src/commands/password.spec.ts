import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@metaweave/platform';
import { openPassword, sealPassword } from '@metaweave/secrets';
import { configSchema } from '../../../password-service/src/config';

describe('local dev keys for the password service', () => {
  it('are made once under .mw/keys (mode 0600) and form a configuration the service accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-keys-'));
    process.env['MW_DATA_DIR'] = dir;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { passwordServiceDevEnv, devPasswordKey } = require('./password') as typeof import('./password');
      const env = passwordServiceDevEnv({ MW_SAMBA_DOMAIN: 'CONTOSO' });
      expect(passwordServiceDevEnv({ MW_SAMBA_DOMAIN: 'CONTOSO' })).toEqual(env);
      expect(statSync(join(dir, 'keys', 'password-nt4-contoso.json')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'auth', 'dev-signing-key.pem')).mode & 0o777).toBe(0o600);
      const config = loadConfig(configSchema, {
        MW_KAFKA_BROKERS: '127.0.0.1:19092',
        MW_DATABASE_URL: 'postgres://x@127.0.0.1/db',
        MW_DATABASE_SCHEMA: 'password_service',
        MW_HTTP_PORT: '7104',
        ...env,
      });
      expect(config.connectors.map((c) => `${c.connector}/${c.domain}`)).toEqual(['nt4-contoso/CONTOSO']);
      const pair = devPasswordKey('nt4-contoso');
      const command = { commandId: '00000000-0000-4000-8000-000000000001', connector: 'nt4-contoso', anchor: 'S-1', op: 'set' as const, expiresAt: '2030-01-01T00:00:00.000Z' };
      expect(openPassword({ ...command, sealed: sealPassword({ newPassword: 'x' }, config.connectors[0]!, command) }, [pair])).toEqual({ newPassword: 'x' });
    });
    delete process.env['MW_DATA_DIR'];
  });
});
