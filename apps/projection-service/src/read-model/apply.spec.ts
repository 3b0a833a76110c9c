import { EnvelopeFactory, type Message, type MvObjectChangedV2 } from '@metaweave/contracts';
import { applyMvEvent, type MvRow } from './apply';

const factory = new EnvelopeFactory({ source: 'test', clock: () => new Date('2026-11-23T00:00:00Z') });
const id = '3f1d2c4b-5a6e-4f70-8b9c-0d1e2f3a4b5c';
function event(version: number, change: MvObjectChangedV2['change'], mail: string): Message<'mv.object.changed'> {
  return factory.create({
    type: 'mv.object.changed',
    schemaVersion: 2,
    data: {
      mvObjectId: id,
      objectType: 'person',
      version,
      change,
      attributes: { mail: [mail] },
      connectors: [],
      rulesVersion: 'r1',
      lineage: [],
      cause: { connector: 'exchange', anchor: 'a', csVersion: version },
      reason: 'test',
    },
  });
}

describe('applyMvEvent', () => {
  it('folds a stream into the latest image', () => {
    let rows: MvRow | undefined;
    for (const e of [event(1, 'projected', 'a@x'), event(2, 'updated', 'b@x'), event(3, 'deleted', 'b@x')]) rows = applyMvEvent(rows, e) ?? rows;
    expect(rows).toMatchObject({ id, version: 3, deleted: true, attributes: { mail: ['b@x'] } });
  });

  it('ignores a redelivered or older event', () => {
    const row = applyMvEvent(undefined, event(2, 'updated', 'new@x'))!;
    expect(applyMvEvent(row, event(2, 'updated', 'new@x'))).toBeNull();
    expect(applyMvEvent(row, event(1, 'projected', 'old@x'))).toBeNull();
  });
});
