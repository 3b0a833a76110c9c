import { baseServiceConfig, serviceSettings } from '@metaweave/platform';
import { z } from 'zod';

export const SERVICE_NAME = 'projection-service';

export const configSchema = z.object(serviceSettings).transform((e) => baseServiceConfig(e, SERVICE_NAME));

export type ProjectionConfig = z.output<typeof configSchema>;
export const CONFIG = Symbol('ProjectionConfig');
