import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACTS, ContractViolation, EnvelopeFactory, decodeMessage, encodeMessage, type Message } from './index';

const fixturesDir = join(__dirname, '..', 'fixtures');

describe('golden fixtures', () => {
  const files = readdirSync(fixturesDir).filter((f) => f.endsWith('.json'));

  it('has one fixture for every version of every message type', () => {
    const expected = Object.entries(CONTRACTS).flatMap(([type, c]) => Object.keys(c.schemas).map((v) => `${type}.v${v}.json`));
    expect(files.sort()).toEqual(expected.sort());
  });

  it.each(files)('%s decodes (upcast to the current version) and re-encodes', (file) => {
    const raw = readFileSync(join(fixturesDir, file));
    const original = JSON.parse(raw.toString());
    const decoded = decodeMessage(raw);
    expect(decoded.type).toBe(file.split('.v')[0]);
    expect(decoded.schemaVersion).toBe(CONTRACTS[decoded.type].current);
    const reencoded = JSON.parse(encodeMessage(decoded).toString());
    if (original.schemaVersion === decoded.schemaVersion) {
      expect(reencoded).toEqual(original);
    } else {
      // An old version keeps every field it had; the upcaster only adds.
      expect(reencoded.data).toMatchObject(original.data);
      expect(reencoded.schemaVersion).toBe(decoded.schemaVersion);
    }
  });
});

describe('decodeMessage rejects bad input with a reason', () => {
  const good = JSON.parse(readFileSync(join(fixturesDir, 'cs.object.changed.v1.json'), 'utf8'));
  const reason = (raw: string | null) => {
    try {
      decodeMessage(raw);
    } catch (e) {
      expect(e).toBeInstanceOf(ContractViolation);
      return (e as Error).message;
    }
    throw new Error('decoded bad input');
  };

  it('names each failure', () => {
    expect(reason(null)).toBe('empty message value');
    expect(reason('{"password":"hunter2"')).toBe('message is not JSON');
    expect(reason(JSON.stringify({ ...good, eventId: 'x' }))).toMatch(/invalid envelope: eventId/);
    expect(reason(JSON.stringify({ ...good, type: 'nope' }))).toBe(`unknown message type 'nope'`);
    expect(reason(JSON.stringify({ ...good, schemaVersion: 9 }))).toMatch(/unsupported schemaVersion 9/);
    expect(reason(JSON.stringify({ ...good, data: { ...good.data, csVersion: 0 } }))).toMatch(/data: csVersion/);
    expect(reason(JSON.stringify({ ...good, data: { ...good.data, attributes: { x: [{ b64: '!!' }] } } }))).toMatch(/attributes\.x\.0/);
  });

  it('rejects a type the consumer does not expect', () => {
    expect(() => decodeMessage(JSON.stringify(good), ['mv.object.changed'])).toThrow(/unexpected message type 'cs.object.changed'/);
  });
});

describe('EnvelopeFactory', () => {
  it('inherits correlation and sets causation from the causing message', () => {
    let n = 0;
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const f = new EnvelopeFactory({ source: 'test', clock: () => new Date('2026-01-01T00:00:00Z'), newId: () => ids[n++]! });
    const first = f.create({ type: 'x', schemaVersion: 1, data: {} });
    const second = f.create({ type: 'y', schemaVersion: 1, data: {}, causedBy: first });
    expect(first).toMatchObject({ eventId: ids[0], correlationId: ids[0], causationId: null, occurredAt: '2026-01-01T00:00:00.000Z' });
    expect(second).toMatchObject({ eventId: ids[1], correlationId: ids[0], causationId: ids[0] });
  });

  it('refuses to encode invalid outgoing data', () => {
    const f = new EnvelopeFactory({ source: 'test' });
    const bad = f.create({ type: 'mv.object.changed', schemaVersion: 2, data: { mvObjectId: 'not-a-uuid' } }) as unknown as Message;
    expect(() => encodeMessage(bad)).toThrow(/refusing to emit invalid 'mv.object.changed'/);
  });
});
