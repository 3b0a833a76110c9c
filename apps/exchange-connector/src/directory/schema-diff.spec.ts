import type { ConnectorSchema } from '@metaweave/connector-sdk';
import { diffSchema } from './schema-diff';

const schema: ConnectorSchema = {
  objectTypes: [
    { name: 'mailbox', attributes: ['cn', 'mail', 'Extension-Attribute-1'], mandatory: ['cn'] },
    { name: 'customRecipient', attributes: ['cn', 'Target-Address'], mandatory: ['cn', 'Target-Address'] },
  ],
  attributes: [
    { name: 'cn', aliases: [], syntax: 'string', multiValued: false },
    { name: 'mail', aliases: [], syntax: 'string', multiValued: false },
    { name: 'Extension-Attribute-1', aliases: ['extensionAttribute1'], syntax: 'string', multiValued: false },
    { name: 'Target-Address', aliases: [], syntax: 'string', multiValued: false },
  ],
};

describe('schema refresh diff', () => {
  it('a first refresh adds everything; the same schema again changes nothing', () => {
    const first = diffSchema(null, schema);
    expect(first).toMatchObject({ first: true, added: { objectTypes: ['customRecipient', 'mailbox'] }, removed: { objectTypes: [], attributes: [] } });
    expect(diffSchema(schema, schema)).toEqual({ first: false, added: { objectTypes: [], attributes: [] }, removed: { objectTypes: [], attributes: [] }, changed: [], objectTypesLosingAttributes: [] });
  });

  it('reports removed and added types and attributes, changed syntax, and types losing attributes (names case-insensitive)', () => {
    const after: ConnectorSchema = {
      objectTypes: [{ name: 'MAILBOX', attributes: ['cn', 'mail', 'Extension-Attribute-2'], mandatory: ['cn'] }],
      attributes: [
        { name: 'cn', aliases: [], syntax: 'string', multiValued: false },
        { name: 'mail', aliases: [], syntax: 'string', multiValued: true },
        { name: 'Extension-Attribute-2', aliases: [], syntax: 'string', multiValued: false },
      ],
    };
    expect(diffSchema(schema, after)).toEqual({
      first: false,
      added: { objectTypes: [], attributes: ['Extension-Attribute-2'] },
      removed: { objectTypes: ['customRecipient'], attributes: ['Extension-Attribute-1', 'Target-Address'] },
      changed: [{ attribute: 'mail', before: 'string, single-valued', after: 'string, multi-valued' }],
      objectTypesLosingAttributes: [{ objectType: 'MAILBOX', attributes: ['Extension-Attribute-1'] }],
    });
  });
});
