import { formatUsnWatermark, highestUsn, parseUsnWatermark, usnEffect, usnWatermarkDistrust } from './usn';

const DAY = 24 * 3600 * 1000;
const at = new Date('2026-11-23T12:00:00.000Z');
const w = formatUsnWatermark({ server: 'cn=Microsoft DSA,cn=EXCH01', usn: 100, at });
const state = { server: 'cn=Microsoft DSA,cn=EXCH01', lastObjectRemovedUsn: null, now: new Date(at.getTime() + DAY), tombstoneLifetimeMs: 30 * DAY };

describe('usn watermark', () => {
  it('round-trips and refuses what is not one', () => {
    expect(parseUsnWatermark(w)).toEqual({ server: 'cn=Microsoft DSA,cn=EXCH01', usn: 100, at });
    expect(parseUsnWatermark('rs:20261123114841.155114Z')).toBeNull();
    expect(parseUsnWatermark('usn:{"server":"x","usn":-1,"at":"2026-11-23T12:00:00Z"}')).toBeNull();
    expect(parseUsnWatermark('usn:{not json')).toBeNull();
  });

  it('is trusted against the same server, young enough, with no tombstone purged past it', () => {
    expect(usnWatermarkDistrust(w, state)).toBeNull();
    expect(usnWatermarkDistrust(w, { ...state, server: 'CN=MICROSOFT DSA,CN=EXCH01' })).toBeNull();
    expect(usnWatermarkDistrust(w, { ...state, lastObjectRemovedUsn: 100 })).toBeNull();
  });

  it('is distrusted from another server, after a purge past it, when older than the tombstone lifetime, or of another strategy', () => {
    expect(usnWatermarkDistrust(w, { ...state, server: 'cn=Microsoft DSA,cn=EXCH02' })).toMatch(/USNs are local to one server/);
    expect(usnWatermarkDistrust(w, { ...state, lastObjectRemovedUsn: 101 })).toMatch(/tombstones purged past the watermark \(last removed USN 101 > watermark 100\)/);
    expect(usnWatermarkDistrust(w, { ...state, now: new Date(at.getTime() + 31 * DAY) })).toMatch(/longer than the tombstone lifetime/);
    expect(usnWatermarkDistrust('rs:20261123114841.155114Z', state)).toMatch(/not a usn watermark/);
  });
});

describe('usn effects', () => {
  const e = { dn: 'cn=a', anchor: 'u1', usnChanged: 120, usnCreated: 50, deleted: false };
  it('tells adds from updates by USN-Created, deletes by tombstone', () => {
    expect(usnEffect(e, 100)).toEqual({ kind: 'update', dn: 'cn=a' });
    expect(usnEffect({ ...e, usnCreated: 110 }, 100)).toEqual({ kind: 'add', dn: 'cn=a' });
    expect(usnEffect({ ...e, deleted: true }, 100)).toEqual({ kind: 'delete', dn: 'cn=a', anchor: 'u1' });
    expect(usnEffect({ ...e, deleted: true, usnCreated: 101 }, 100)).toEqual({ kind: 'skip', dn: 'cn=a' });
  });
  it('finds the highest USN, ignoring what is not a number', () => {
    expect(highestUsn(['5', undefined, 'x', '12', '7'], 3)).toBe(12);
    expect(highestUsn([], 3)).toBe(3);
  });
});
