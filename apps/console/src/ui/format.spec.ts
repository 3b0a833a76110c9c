import { sidFromString } from '@metaweave/samr';
import { formatValue, orderedCounters, processed, sidString } from './format';

describe('formatting', () => {
  it('shows a binary SID in its string form, the same one libs/samr encodes', () => {
    for (const sid of ['S-1-5-21-1144201745-2289526357-3433806489-1001', 'S-1-5-32-544', 'S-1-1-0']) {
      const b64 = sidFromString(sid).toString('base64');
      expect(sidString(b64)).toBe(sid);
      expect(formatValue({ b64 })).toBe(sid);
    }
  });

  it('shows other binaries by size, never their bytes', () => {
    const cert = Buffer.from('0\x82\x01\x0a certificate bytes').toString('base64');
    expect(sidString(cert)).toBeNull();
    expect(formatValue({ b64: cert })).toMatch(/^binary, \d+ bytes$/);
  });

  it('orders MIIS counters as MIIS shows them, unknown ones after', () => {
    expect(orderedCounters({ zeta: 1, exportAdd: 2, stageAdd: 3, connectorFlow: 4 }).map(([k]) => k)).toEqual(['stageAdd', 'connectorFlow', 'exportAdd', 'zeta']);
    expect(processed({ stageAdd: 3, stageUpdate: 2, exportAdd: 1, errors: 5, heldDeletes: 9 })).toBe(6);
  });
});
