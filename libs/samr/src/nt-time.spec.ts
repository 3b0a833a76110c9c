import { InvalidNtTime, NT_TIME_NEVER, dateToNtTime, isNeverNtTime, isoToNtTime, ntTimeToIso } from './nt-time';

describe('NT time (FILETIME, 100 ns since 1601)', () => {
  it('knows the Unix epoch and the NT epoch', () => {
    expect(ntTimeToIso(116444736000000000n)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoToNtTime('1970-01-01T00:00:00Z')).toBe(116444736000000000n);
    expect(ntTimeToIso(1n)).toBe('1601-01-01T00:00:00.0000001Z');
  });

  it('treats 0 and 0x7FFFFFFFFFFFFFFF as never', () => {
    expect(ntTimeToIso(0n)).toBeNull();
    expect(ntTimeToIso(NT_TIME_NEVER)).toBeNull();
    expect(ntTimeToIso('9223372036854775807')).toBeNull();
    expect(isNeverNtTime('0')).toBe(true);
    expect(isNeverNtTime(NT_TIME_NEVER)).toBe(true);
    expect(isNeverNtTime(1n)).toBe(false);
  });

  it('reads what Samba returned for a password set on 2026-11-23 (decimal strings from the wire)', () => {
    expect(ntTimeToIso('134399126400000000')).toBe('2026-11-23T13:04:00.000Z');
    expect(ntTimeToIso('137303967990000000')).toBe('2036-02-06T15:06:39.000Z');
  });

  it('is lossless: sub-millisecond ticks show as seven fractional digits', () => {
    for (const t of [134399126401234567n, 134399126400000001n, 134399126409999999n, 130000000000000000n]) {
      expect(isoToNtTime(ntTimeToIso(t)!)).toBe(t);
    }
    expect(ntTimeToIso(134399126401234567n)).toBe('2026-11-23T13:04:00.1234567Z');
    expect(isoToNtTime('2026-11-23T13:04:00.5Z')).toBe(134399126405000000n);
  });

  it('handles times before 1970', () => {
    const t = isoToNtTime('1601-01-01T00:00:01Z');
    expect(t).toBe(10000000n);
    expect(ntTimeToIso(t)).toBe('1601-01-01T00:00:01.000Z');
    expect(isoToNtTime(ntTimeToIso(100000000000000000n)!)).toBe(100000000000000000n);
  });

  it('converts dates', () => {
    expect(dateToNtTime(new Date('2000-01-01T00:00:00Z'))).toBe(125911584000000000n);
  });

  it.each(['2026-11-23', '2026-11-23T12:24:00', '2026-02-30T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T12:24:00.12345678Z', 'never'])(
    'rejects %j',
    (iso) => {
      expect(() => isoToNtTime(iso)).toThrow(InvalidNtTime);
    },
  );

  it('rejects values that are no NT time', () => {
    expect(() => ntTimeToIso(-1n)).toThrow(InvalidNtTime);
    expect(() => ntTimeToIso('abc')).toThrow(InvalidNtTime);
    expect(() => ntTimeToIso(0x8000000000000000n)).toThrow(InvalidNtTime);
  });
});
