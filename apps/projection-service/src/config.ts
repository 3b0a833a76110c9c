import { splitPemKeys } from '@metaweave/auth';
import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'projection-service';

const NAME = /^[a-z][a-z0-9-]*$/;

/** `exchange=http://host:7101,nt4=http://host:7102` → { exchange: 'http://…', nt4: 'http://…' } */
const connectorUrls = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const out: Record<string, string> = {};
    for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
      const i = part.indexOf('=');
      const name = part.slice(0, i);
      const url = part.slice(i + 1);
      if (i < 1 || !NAME.test(name) || !/^https?:\/\/[^\s]+$/.test(url)) {
        ctx.addIssue({ code: 'custom', message: `'${part}' is not <connector>=<http(s) URL> (e.g. exchange=http://127.0.0.1:7101)` });
        return z.NEVER;
      }
      out[name] = url.replace(/\/+$/, '');
    }
    return out;
  });

export const configSchema = z
  .object({
    ...serviceSettings,
    /** PEM (SPKI) public keys that sign accepted bearer tokens; several for rotation. */
    MW_AUTH_PUBLIC_KEYS: z.string().refine((s) => splitPemKeys(s).length > 0, 'expected one or more PEM public keys (-----BEGIN PUBLIC KEY-----)'),
    MW_AUTH_ISSUER: z.string().min(1).default('metaweave'),
    MW_AUTH_AUDIENCE: z.string().min(1).default('metaweave'),
    /** Where run profiles are forwarded: the connectors' APIs by connector name. */
    MW_CONNECTOR_URLS: connectorUrls,
    /** Where preview and approvals are forwarded. */
    MW_JOIN_ENGINE_URL: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL')
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** Largest number of messages applied in one transaction. */
    MW_PROJECTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .transform((e) => ({
    ...baseServiceConfig(e, SERVICE_NAME),
    auth: { publicKeysPem: splitPemKeys(e.MW_AUTH_PUBLIC_KEYS), issuer: e.MW_AUTH_ISSUER, audience: e.MW_AUTH_AUDIENCE },
    connectorUrls: e.MW_CONNECTOR_URLS,
    joinEngineUrl: e.MW_JOIN_ENGINE_URL ?? null,
    batchSize: e.MW_PROJECTION_BATCH_SIZE,
  }));

export type ProjectionConfig = z.output<typeof configSchema>;
export const CONFIG = Symbol('ProjectionConfig');
