import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';
import { exchangeBindDn } from './directory/bind';
import { parseRunProfiles } from './import/profiles';

export const SERVICE_NAME = 'exchange-connector';

const relativeDn = z.string().regex(/^[a-z][\w-]*=[^,]+(,[a-z][\w-]*=[^,]+)*$/i, 'a DN relative to the site, e.g. cn=Recipients');
const containersSchema = z.record(z.string(), z.object({ include: z.array(relativeDn).optional(), exclude: z.array(relativeDn).optional() }).strict());

export const configSchema = z
  .object({
    ...serviceSettings,
    MW_CONNECTOR_NAME: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and -').default('exchange'),
    MW_LDAP_URL: z.string().regex(/^ldaps?:\/\/[^/]+\/?$/, 'expected ldap://host:port or ldaps://host:port'),
    MW_LDAP_BIND_DN: z.string().min(1).optional(),
    /** MIIS's connection: account and logon domain instead of a bind DN (domain.md §2.6). */
    MW_EXCHANGE_ACCOUNT: z.string().min(1).optional(),
    MW_EXCHANGE_LOGON_DOMAIN: z.string().regex(/^[\w.-]{1,64}$/, 'an NT domain name, e.g. CONTOSO').optional(),
    MW_LDAP_STARTTLS: z.enum(['true', 'false'], { message: "expected 'true' or 'false'" }).default('false'),
    MW_LDAP_TLS_CA_FILE: z.string().min(1).optional(),
    MW_LDAP_TLS_REJECT_UNAUTHORIZED: z.enum(['true', 'false'], { message: "expected 'true' or 'false'" }).default('true'),
    MW_LDAP_BIND_PASSWORD: z.string().min(1),
    MW_LDAP_BASE_DN: z.string().regex(/^o=[^,]+$/i, 'expected the organisation DN, e.g. o=Contoso'),
    MW_EXCHANGE_SITES: z
      .string()
      .min(1)
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .refine((l) => l.length > 0 && l.every((x) => /^[\w .-]+$/.test(x)), 'expected a comma-separated list of site names'),
    MW_EXCHANGE_DELTA_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
    MW_EXCHANGE_DELTA_STRATEGY: z.enum(['accesslog', 'usn'], { message: "expected 'accesslog' (OpenLDAP stand-in) or 'usn' (Exchange 5.5)" }).default('accesslog'),
    /** `{"SiteA":{"include":["cn=Recipients"],"exclude":["cn=Hidden,cn=Recipients"]}}`, DNs relative to the site. */
    MW_EXCHANGE_CONTAINERS: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined || s.trim() === '') return {};
        try {
          return containersSchema.parse(JSON.parse(s));
        } catch (error) {
          ctx.addIssue({
            code: 'custom',
            message: `expected JSON {"<site>":{"include":["cn=Recipients"],"exclude":["cn=X,cn=Recipients"]}} with DNs relative to the site (${error instanceof SyntaxError ? error.message : 'wrong shape'})`,
          });
          return z.NEVER;
        }
      }),
    /** `{"nightly":{"steps":["full-import","export"],"cron":"0 2 * * *"}}` (see import/profiles.ts). */
    MW_EXCHANGE_RUN_PROFILES: z.string().optional(),
    MW_EXCHANGE_TOMBSTONE_LIFETIME_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  })
  .superRefine((e, ctx) => {
    const miis = e.MW_EXCHANGE_ACCOUNT !== undefined || e.MW_EXCHANGE_LOGON_DOMAIN !== undefined;
    if (e.MW_LDAP_BIND_DN === undefined && !miis) {
      ctx.addIssue({ code: 'custom', path: ['MW_LDAP_BIND_DN'], message: 'required: a bind DN, or MW_EXCHANGE_ACCOUNT and MW_EXCHANGE_LOGON_DOMAIN (account and logon domain, as MIIS asks)' });
    } else if (e.MW_LDAP_BIND_DN !== undefined && miis) {
      ctx.addIssue({ code: 'custom', path: ['MW_LDAP_BIND_DN'], message: 'set either a bind DN or MW_EXCHANGE_ACCOUNT + MW_EXCHANGE_LOGON_DOMAIN, not both' });
    } else if (miis && e.MW_EXCHANGE_ACCOUNT === undefined) {
      ctx.addIssue({ code: 'custom', path: ['MW_EXCHANGE_ACCOUNT'], message: 'required with MW_EXCHANGE_LOGON_DOMAIN' });
    } else if (miis && e.MW_EXCHANGE_LOGON_DOMAIN === undefined) {
      ctx.addIssue({ code: 'custom', path: ['MW_EXCHANGE_LOGON_DOMAIN'], message: 'required with MW_EXCHANGE_ACCOUNT' });
    }
    for (const site of Object.keys(e.MW_EXCHANGE_CONTAINERS)) {
      if (!e.MW_EXCHANGE_SITES.includes(site)) {
        ctx.addIssue({ code: 'custom', path: ['MW_EXCHANGE_CONTAINERS'], message: `unknown site '${site}' (configured sites: ${e.MW_EXCHANGE_SITES.join(', ')})` });
      }
    }
    if (e.MW_EXCHANGE_RUN_PROFILES?.trim()) {
      try {
        parseRunProfiles(e.MW_EXCHANGE_RUN_PROFILES, e.MW_EXCHANGE_SITES);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['MW_EXCHANGE_RUN_PROFILES'], message: (error as Error).message });
      }
    }
    if (e.MW_LDAP_STARTTLS === 'true' && e.MW_LDAP_URL.startsWith('ldaps:')) {
      ctx.addIssue({ code: 'custom', path: ['MW_LDAP_STARTTLS'], message: 'StartTLS is for ldap:// URLs; an ldaps:// URL is TLS already' });
    }
  })
  .transform((e) => ({
    ...baseServiceConfig(e, SERVICE_NAME),
    connector: e.MW_CONNECTOR_NAME,
    ldap: {
      url: e.MW_LDAP_URL,
      // MIIS's form: the administrator bind with the usn strategy (only it sees tombstones).
      bindDn: e.MW_LDAP_BIND_DN ?? exchangeBindDn(e.MW_EXCHANGE_ACCOUNT!, e.MW_EXCHANGE_LOGON_DOMAIN!, e.MW_EXCHANGE_DELTA_STRATEGY === 'usn'),
      bindPassword: e.MW_LDAP_BIND_PASSWORD,
      baseDn: e.MW_LDAP_BASE_DN,
      tls: {
        startTls: e.MW_LDAP_STARTTLS === 'true',
        rejectUnauthorized: e.MW_LDAP_TLS_REJECT_UNAUTHORIZED === 'true',
        ...(e.MW_LDAP_TLS_CA_FILE ? { caFile: e.MW_LDAP_TLS_CA_FILE } : {}),
      },
    },
    sites: e.MW_EXCHANGE_SITES,
    containers: e.MW_EXCHANGE_CONTAINERS,
    runProfiles: e.MW_EXCHANGE_RUN_PROFILES?.trim() ? parseRunProfiles(e.MW_EXCHANGE_RUN_PROFILES, e.MW_EXCHANGE_SITES) : [],
    /** 0 turns continuous delta imports off (runs only on demand). */
    deltaIntervalMs: e.MW_EXCHANGE_DELTA_INTERVAL_MS,
    deltaStrategy: e.MW_EXCHANGE_DELTA_STRATEGY,
    tombstoneLifetimeMs: e.MW_EXCHANGE_TOMBSTONE_LIFETIME_DAYS * 24 * 3600 * 1000,
  }));

export type ExchangeConfig = z.output<typeof configSchema>;
export const CONFIG = Symbol('ExchangeConfig');
