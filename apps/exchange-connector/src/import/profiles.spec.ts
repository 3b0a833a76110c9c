import { parseRunProfiles } from './profiles';

describe('run profiles from configuration', () => {
  it('reads named step lists with an interval or a cron schedule', () => {
    const [nightly, quick] = parseRunProfiles(
      JSON.stringify({ nightly: { steps: ['full-import', 'export'], partitions: ['SiteA'], cron: '0 2 * * *' }, quick: { steps: ['delta-import'], intervalMs: 5000 } }),
      ['SiteA', 'SiteB'],
    );
    expect(nightly).toMatchObject({ name: 'nightly', steps: ['full-import', 'export'], partitions: ['SiteA'], intervalMs: null });
    expect(nightly!.cron!.expression).toBe('0 2 * * *');
    expect(quick).toMatchObject({ name: 'quick', steps: ['delta-import'], partitions: null, intervalMs: 5000, cron: null });
  });
  it('says which profile is wrong and how', () => {
    const parse = (x: unknown) => () => parseRunProfiles(typeof x === 'string' ? x : JSON.stringify(x), ['SiteA']);
    expect(parse('{nope')).toThrow(/not JSON/);
    expect(parse({ p: { steps: [] } })).toThrow(/profile 'p': steps: a profile needs at least one step/);
    expect(parse({ p: { steps: ['full-sync'] } })).toThrow(/profile 'p': steps.0/);
    expect(parse({ p: { steps: ['export'], cron: '0 2 * *' } })).toThrow(/profile 'p': invalid cron '0 2 \* \*': 4 fields/);
    expect(parse({ p: { steps: ['export'], cron: '0 2 * * *', intervalMs: 1000 } })).toThrow(/intervalMs or cron, not both/);
    expect(parse({ p: { steps: ['export'], partitions: ['SiteZ'] } })).toThrow(/unknown site\(s\) SiteZ/);
  });
});
