import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'nt4-connector';

export const configSchema = z.object(serviceSettings).transform((e) => baseServiceConfig(e, SERVICE_NAME));

export type Nt4Config = z.output<typeof configSchema>;
export const CONFIG = Symbol('Nt4Config');
