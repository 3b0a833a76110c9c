import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'exchange-connector';

export const configSchema = z
  .object({
    ...serviceSettings,
    MW_CONNECTOR_NAME: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -').default('exchange'),
    MW_LDAP_URL: z.string().regex(/^ldaps?:\/\/[^/]+\/?$/, 'expected ldap://host:port or ldaps://host:port'),
    MW_LDAP_BIND_DN: z.string().min(1),
    MW_LDAP_BIND_PASSWORD: z.string().min(1),
    MW_LDAP_BASE_DN: z.string().regex(/^o=[^,]+$/i, 'expected the organisation DN, e.g. o=Contoso'),
    MW_EXCHANGE_SITES: z
      .string()
      .min(1)
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .refine((l) => l.length > 0 && l.every((x) => /^[\w .-]+$/.test(x)), 'expected a comma-separated list of site names'),
    MW_EXCHANGE_DELTA_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
    MW_EXCHANGE_DELTA_STRATEGY: z.enum(['accesslog', 'usn'], { message: "expected 'accesslog' (OpenLDAP stand-in) or 'usn' (Exchange 5.5)" }).default('accesslog'),
    MW_EXCHANGE_TOMBSTONE_LIFETIME_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  })
  .transform((e) => ({
    ...baseServiceConfig(e, SERVICE_NAME),
    connector: e.MW_CONNECTOR_NAME,
    ldap: { url: e.MW_LDAP_URL, bindDn: e.MW_LDAP_BIND_DN, bindPassword: e.MW_LDAP_BIND_PASSWORD, baseDn: e.MW_LDAP_BASE_DN },
    sites: e.MW_EXCHANGE_SITES,
    /** 0 turns continuous delta imports off (runs only on demand). */
    deltaIntervalMs: e.MW_EXCHANGE_DELTA_INTERVAL_MS,
    deltaStrategy: e.MW_EXCHANGE_DELTA_STRATEGY,
    tombstoneLifetimeMs: e.MW_EXCHANGE_TOMBSTONE_LIFETIME_DAYS * 24 * 3600 * 1000,
  }));

export type ExchangeConfig = z.output<typeof configSchema>;
export const CONFIG = Symbol('ExchangeConfig');
