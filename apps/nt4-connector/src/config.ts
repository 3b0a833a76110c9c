import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'nt4-connector';

const bool = z.enum(['true', 'false']).default('false').transform((v) => v === 'true');

export const configSchema = z
  .object({
    ...serviceSettings,
    /** NetBIOS name of the domain: the partition (one connector configuration per domain). */
    MW_NT4_DOMAIN: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'expected a NetBIOS domain name (at most 15 characters)'),
    MW_NT4_HOST: z.string().min(1),
    MW_NT4_PORT: z.coerce.number().int().min(1).max(65535).default(445),
    MW_NT4_ADMIN_USER: z.string().min(1),
    MW_NT4_ADMIN_PASSWORD: z.string().min(1, 'a blank administrative password is refused'),
    MW_NT4_CLIENT_CONF: z.string().min(1).optional(),
    MW_NT4_SMB1: bool,
    MW_NT4_IMPORT_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
    MW_CONNECTOR_NAME: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -').optional(),
  })
  .transform((e) => ({
    ...baseServiceConfig(e, SERVICE_NAME),
    connector: e.MW_CONNECTOR_NAME ?? `nt4-${e.MW_NT4_DOMAIN.toLowerCase()}`,
    domain: {
      domain: e.MW_NT4_DOMAIN.toUpperCase(),
      host: e.MW_NT4_HOST,
      port: e.MW_NT4_PORT,
      username: e.MW_NT4_ADMIN_USER,
      password: e.MW_NT4_ADMIN_PASSWORD,
      clientConf: e.MW_NT4_CLIENT_CONF,
      smb1: e.MW_NT4_SMB1,
    },
    /** Full import every N ms (the NT4 SAM has no change log); 0 = only on demand. */
    importIntervalMs: e.MW_NT4_IMPORT_INTERVAL_MS,
  }));

export type Nt4Config = z.output<typeof configSchema>;
export const CONFIG = Symbol('Nt4Config');
