import { generateSigningKeyPair } from '@metaweave/auth';
import { ConfigError, loadConfig } from '@metaweave/platform';
import { candidateValues } from './api/objects.controller';
import { openApiDocument } from './api/openapi.controller';
import { configSchema } from './config';

const base = {
  MW_KAFKA_BROKERS: '127.0.0.1:19092',
  MW_DATABASE_URL: 'postgresql://u@127.0.0.1:5433/db',
  MW_DATABASE_SCHEMA: 'projection_service',
  MW_HTTP_PORT: '7105',
  MW_AUTH_PUBLIC_KEYS: generateSigningKeyPair().publicKeyPem,
};

function problems(env: Record<string, string | undefined>): string {
  try {
    loadConfig(configSchema, env as NodeJS.ProcessEnv);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
}

describe('projection-service configuration', () => {
  it('reads the auth keys, connector URLs and the join engine URL', () => {
    const c = loadConfig(configSchema, { ...base, MW_CONNECTOR_URLS: 'exchange=http://127.0.0.1:7101/, nt4-contoso=http://h:7102', MW_JOIN_ENGINE_URL: 'http://127.0.0.1:7103' });
    expect(c.auth).toMatchObject({ issuer: 'metaweave', audience: 'metaweave', publicKeysPem: [expect.stringContaining('BEGIN PUBLIC KEY')] });
    expect(c.connectorUrls).toEqual({ exchange: 'http://127.0.0.1:7101', 'nt4-contoso': 'http://h:7102' });
    expect(c.joinEngineUrl).toBe('http://127.0.0.1:7103');
    expect(c.batchSize).toBe(1000);
  });

  it('names a missing or unusable key, a bad connector URL list and a bad join engine URL', () => {
    expect(problems({ ...base, MW_AUTH_PUBLIC_KEYS: undefined })).toMatch(/MW_AUTH_PUBLIC_KEYS: required but not set/);
    expect(problems({ ...base, MW_AUTH_PUBLIC_KEYS: 'secret' })).toMatch(/MW_AUTH_PUBLIC_KEYS: expected one or more PEM public keys/);
    expect(problems({ ...base, MW_CONNECTOR_URLS: 'exchange' })).toMatch(/MW_CONNECTOR_URLS: 'exchange' is not <connector>=<http\(s\) URL>/);
    expect(problems({ ...base, MW_JOIN_ENGINE_URL: 'join-engine:7103' })).toMatch(/MW_JOIN_ENGINE_URL: expected an http\(s\) URL/);
  });
});

describe('search values', () => {
  it('matches a SID string also as the binary SID, numbers, booleans and references', () => {
    expect(candidateValues('S-1-5-21-1-2-3-1001')).toEqual(['S-1-5-21-1-2-3-1001', { b64: 'AQUAAAAAAAUVAAAAAQAAAAIAAAADAAAA6QMAAA==' }]);
    expect(candidateValues('42')).toEqual(['42', 42]);
    expect(candidateValues('true')).toEqual(['true', true]);
    expect(candidateValues('3f1d2c4b-5a6e-4f70-8b9c-0d1e2f3a4b5c')).toEqual(['3f1d2c4b-5a6e-4f70-8b9c-0d1e2f3a4b5c', { ref: '3f1d2c4b-5a6e-4f70-8b9c-0d1e2f3a4b5c' }]);
    expect(candidateValues('S-1-nonsense')).toEqual(['S-1-nonsense']);
  });
});

describe('OpenAPI document', () => {
  it('describes every endpoint with its role and the search parameters from the zod schema', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { description: string; parameters: { name: string; in: string }[] }>> };
    expect(doc.paths['/api/v1/projection/rebuild']!['post']!.description).toMatch(/admins/);
    expect(doc.paths['/api/v1/objects']!['get']!.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['type', 'attr', 'limit', 'offset', 'sort', 'order', 'includeDeleted']);
  });
});
