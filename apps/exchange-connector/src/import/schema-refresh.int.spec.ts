import { openDatabase } from '@metaweave/platform';
import { stackEnv, uniqueSuffix } from '@metaweave/testing';
import type { DataSource } from 'typeorm';
import { ExchangeDirectory } from '../directory/exchange-directory';
import { Init1732320000000 } from '../migrations/1732320000000-init';
import { SchemaSnapshot1732320000050 } from '../migrations/1732320000050-schema-snapshot';
import { refreshSchema } from './schema-refresh';

jest.setTimeout(60_000);

/** `mw schema refresh exchange`: the live stand-in's schema against the last stored one (real migrations). */
describe('schema refresh', () => {
  const env = stackEnv();
  const schema = `int_schema_${uniqueSuffix()}`;
  let db: DataSource;
  const directory = new ExchangeDirectory({
    name: 'exchange',
    url: env['MW_LDAP_URL']!,
    bindDn: env['MW_LDAP_BIND_DN']!,
    bindPassword: env['MW_LDAP_BIND_PASSWORD']!,
    baseDn: env['MW_LDAP_BASE_DN']!,
    sites: ['SiteA'],
  });
  const refresh = () => refreshSchema(db, schema, 'exchange', () => directory.capabilities.schema.discover());

  beforeAll(async () => {
    db = await openDatabase({ url: env['MW_PG_ADMIN_URL']!, schema, applicationName: 'schema-refresh-test', migrations: [Init1732320000000, SchemaSnapshot1732320000050], poolSize: 2 });
  });
  afterAll(async () => {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.destroy();
  });

  it('the first refresh takes the reference; a second finds nothing changed', async () => {
    const first = await refresh();
    expect(first).toMatchObject({ first: true, previousAt: null, removed: { objectTypes: [], attributes: [] } });
    expect(first.added.objectTypes).toEqual(expect.arrayContaining(['mailbox', 'customRecipient', 'distributionList']));
    expect(first.added.attributes).toEqual(expect.arrayContaining(['Assoc-NT-Account', 'Target-Address']));
    const second = await refresh();
    expect(second).toMatchObject({ first: false, previousAt: first.takenAt, added: { objectTypes: [], attributes: [] }, removed: { objectTypes: [], attributes: [] }, changed: [] });
  });

  it('reports what the directory no longer has and what it has newly, against the stored reference', async () => {
    // The reference as an older directory would have left it: one attribute the stand-in does not
    // have (so it was "removed" since), without Target-Address (so it was "added" since).
    await db.query(
      `UPDATE "${schema}".schema_snapshot SET schema = jsonb_set(schema, '{attributes}',
         (SELECT jsonb_agg(a) FROM jsonb_array_elements(schema->'attributes') a WHERE a->>'name' <> 'Target-Address')
         || '[{"name":"Legacy-Attribute","aliases":[],"syntax":"string","multiValued":false}]'::jsonb)`,
    );
    const r = await refresh();
    expect(r.removed.attributes).toEqual(['Legacy-Attribute']);
    expect(r.added.attributes).toEqual(['Target-Address']);
  });
});
