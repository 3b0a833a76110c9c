import { z } from 'zod';
import { ConfigError, loadConfig, settings } from './config';

const schema = z
  .object({ ...settings.kafka, ...settings.http })
  .transform((e) => ({ brokers: e.MW_KAFKA_BROKERS, prefix: e.MW_TOPIC_PREFIX, port: e.MW_HTTP_PORT }));

function problems(env: Record<string, string>) {
  try {
    loadConfig(schema, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('accepted a bad configuration');
}

describe('loadConfig', () => {
  it('maps a valid environment to the typed object', () => {
    expect(loadConfig(schema, { MW_KAFKA_BROKERS: '127.0.0.1:19092, h2:9092', MW_HTTP_PORT: '8080' })).toEqual({
      brokers: ['127.0.0.1:19092', 'h2:9092'],
      prefix: '',
      port: 8080,
    });
  });

  it('names a missing setting', () => {
    expect(problems({ MW_HTTP_PORT: '8080' })).toEqual([{ key: 'MW_KAFKA_BROKERS', message: 'required but not set' }]);
  });

  it('names every invalid value', () => {
    const p = problems({ MW_KAFKA_BROKERS: 'nohostport', MW_HTTP_PORT: '99999' });
    expect(p.map((x) => x.key).sort()).toEqual(['MW_HTTP_PORT', 'MW_KAFKA_BROKERS']);
    expect(p.find((x) => x.key === 'MW_KAFKA_BROKERS')!.message).toBe('expected host:port[,host:port...]');
  });
});
