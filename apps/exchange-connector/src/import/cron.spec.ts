import { parseCron } from './cron';

const at = (s: string) => new Date(s);

describe('cron', () => {
  it('finds the next matching minute', () => {
    expect(parseCron('0 2 * * *').next(at('2026-11-23T01:59:30')).toString()).toBe(at('2026-11-23T02:00:00').toString());
    expect(parseCron('0 2 * * *').next(at('2026-11-23T02:00:00')).toString()).toBe(at('2026-11-24T02:00:00').toString());
    expect(parseCron('*/15 * * * *').next(at('2026-11-23T10:07:00')).toString()).toBe(at('2026-11-23T10:15:00').toString());
    expect(parseCron('30 8-18/5 * * 1-5').next(at('2026-11-21T12:00:00')).toString()).toBe(at('2026-11-23T08:30:00').toString());
    // Sunday as 7
    expect(parseCron('0 0 * * 7').next(at('2026-11-23T00:00:00')).getDay()).toBe(0);
  });
  it('either restricted day field may match, as in cron', () => {
    const c = parseCron('0 0 1 * 1');
    expect(c.matches(at('2026-12-01T00:00:00'))).toBe(true); // the 1st (a Tuesday)
    expect(c.matches(at('2026-11-30T00:00:00'))).toBe(true); // a Monday
    expect(c.matches(at('2026-11-24T00:00:00'))).toBe(false);
  });
  it('says what is wrong with a bad expression', () => {
    expect(() => parseCron('0 2 * *')).toThrow(/4 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/minute '61' outside 0-59/);
    expect(() => parseCron('x * * * *')).toThrow(/minute 'x' is not a number/);
    expect(() => parseCron('0 0 31 2 *')).toThrow(/never matches/);
  });
});
