import { EnvelopeFactory, type Message, type MvObjectChangedV2 } from '@metaweave/contracts';
import { applyMvEvent, foldMvEvents, latestBy, type MvRow } from './apply';

const factory = new EnvelopeFactory({ source: 'test', clock: () => new Date('2026-11-23T00:00:00Z') });
const id = '3f1d2c4b-5a6e-4f70-8b9c-0d1e2f3a4b5c';
const other = '4f1d2c4b-5a6e-4f70-8b9c-0d1e2f3a4b5c';
function event(version: number, change: MvObjectChangedV2['change'], mail: string, mvObjectId = id): Message<'mv.object.changed'> {
  return factory.create({
    type: 'mv.object.changed',
    schemaVersion: 2,
    data: {
      mvObjectId,
      objectType: 'person',
      version,
      change,
      attributes: { mail: [mail] },
      connectors: [],
      rulesVersion: 'r1',
      lineage: [{ attribute: 'mail', connector: 'exchange', anchor: 'a', flow: 'exchange/mailbox/mail', rulesVersion: 'r1', at: '2026-11-23T00:00:00.000Z' }],
      cause: { connector: 'exchange', anchor: 'a', csVersion: version },
      reason: 'test',
    },
  });
}

describe('applyMvEvent', () => {
  it('folds a stream into the latest image, with its lineage', () => {
    let rows: MvRow | undefined;
    for (const e of [event(1, 'projected', 'a@x'), event(2, 'updated', 'b@x'), event(3, 'deleted', 'b@x')]) rows = applyMvEvent(rows, e) ?? rows;
    expect(rows).toMatchObject({ id, version: 3, deleted: true, attributes: { mail: ['b@x'] }, reason: 'test' });
    expect(rows!.lineage).toHaveLength(1);
  });

  it('ignores a redelivered or older event', () => {
    const row = applyMvEvent(undefined, event(2, 'updated', 'new@x'))!;
    expect(applyMvEvent(row, event(2, 'updated', 'new@x'))).toBeNull();
    expect(applyMvEvent(row, event(1, 'projected', 'old@x'))).toBeNull();
  });
});

describe('foldMvEvents', () => {
  it('keeps the newest version per object, whatever the order in the batch', () => {
    const rows = foldMvEvents([event(2, 'updated', 'b@x'), event(1, 'projected', 'o@x', other), event(1, 'projected', 'a@x'), event(3, 'updated', 'c@x')]);
    expect(rows.map((r) => [r.id, r.version, r.attributes['mail']])).toEqual([
      [id, 3, ['c@x']],
      [other, 1, ['o@x']],
    ]);
  });
});

describe('latestBy', () => {
  it('keeps the highest rank per key, the later on a tie', () => {
    const items = [
      { k: 'a', n: 2, v: 1 },
      { k: 'a', n: 1, v: 2 },
      { k: 'b', n: 1, v: 3 },
      { k: 'b', n: 1, v: 4 },
    ];
    expect(latestBy(items, (i) => i.k, (i) => i.n).map((i) => i.v)).toEqual([1, 4]);
  });
});
