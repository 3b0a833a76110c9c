import { z } from 'zod';
import { ConfigError, loadConfig, settingKeys, settings } from './config';

const schema = z
  .object({ ...settings.kafka, ...settings.http })
  .transform((e) => ({ brokers: e.MW_KAFKA_BROKERS, prefix: e.MW_TOPIC_PREFIX, port: e.MW_HTTP_PORT }));
const keys = settingKeys(settings.kafka, settings.http);

function problems(env: Record<string, string>) {
  try {
    loadConfig(schema, env, keys);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('accepted a bad configuration');
}

describe('loadConfig', () => {
  it('maps a valid environment to the typed object', () => {
    expect(loadConfig(schema, { MW_KAFKA_BROKERS: '127.0.0.1:19092, h2:9092', MW_HTTP_PORT: '8080' }, keys)).toEqual({
      brokers: ['127.0.0.1:19092', 'h2:9092'],
      prefix: '',
      port: 8080,
    });
  });

  it('names a missing setting', () => {
    expect(problems({ MW_HTTP_PORT: '8080' })).toEqual([{ key: 'MW_KAFKA_BROKERS', message: 'required but not set' }]);
  });

  it('names an invalid value and an unknown MW_ key', () => {
    const p = problems({ MW_KAFKA_BROKERS: 'nohostport', MW_HTTP_PORT: '99999', MW_HTTP_PROT: '1' });
    expect(p.map((x) => x.key).sort()).toEqual(['MW_HTTP_PORT', 'MW_HTTP_PROT', 'MW_KAFKA_BROKERS']);
    expect(p.find((x) => x.key === 'MW_KAFKA_BROKERS')!.message).toBe('expected host:port[,host:port...]');
    expect(p.find((x) => x.key === 'MW_HTTP_PROT')!.message).toBe('unknown setting for this service');
  });
});
