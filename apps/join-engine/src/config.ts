import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'join-engine';

export const configSchema = z.object(serviceSettings).transform((e) => baseServiceConfig(e, SERVICE_NAME));

export type JoinEngineConfig = z.output<typeof configSchema>;
export const CONFIG = Symbol('JoinEngineConfig');
