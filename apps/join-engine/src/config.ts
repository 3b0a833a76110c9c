import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'join-engine';

export const configSchema = z
  .object({
    ...serviceSettings,
    /** The rules file (YAML, docs/join-engine.md); relative paths resolve against the working directory. */
    MW_RULES_FILE: z.string().min(1).default('config/rules/default.yaml'),
    /** Optional module of custom transforms (`export const transforms = { name: fn }`). */
    MW_RULES_EXTENSIONS: z.string().min(1).optional(),
  })
  .transform((e) => ({ ...baseServiceConfig(e, SERVICE_NAME), rules: { file: e.MW_RULES_FILE, extensions: e.MW_RULES_EXTENSIONS } }));

export type JoinEngineConfig = z.output<typeof configSchema>;
export const CONFIG = Symbol('JoinEngineConfig');
