import { readFileSync } from 'node:fs';
import { loadRules, RulesError } from './load';
import { DEFAULT_RULES_FILE } from './testing';
import { BUILTIN_TRANSFORMS, dnComponents, sidFromString, sidToString, TransformRegistry } from './transforms';

const text = readFileSync(DEFAULT_RULES_FILE, 'utf8');

function problemsOf(yaml: string, registry?: TransformRegistry): string {
  try {
    loadRules(yaml, 'rules.yaml', registry);
  } catch (e) {
    expect(e).toBeInstanceOf(RulesError);
    return (e as Error).message;
  }
  throw new Error('expected the rules to be refused');
}

describe('loading rules', () => {
  it('loads the default rules with a sha256 version of the canonical form', () => {
    const r = loadRules(text, DEFAULT_RULES_FILE);
    expect(r.version).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(r.rules.connectors)).toEqual(['exchange', 'nt4-contoso']);
    // Comments, formatting and key order do not change the version; a rule change does.
    expect(loadRules(`# a comment\n${text}`).version).toBe(r.version);
    expect(loadRules(text.replace('name: seed-scenario\n', '') + '\nname: seed-scenario\n').version).toBe(r.version);
    expect(loadRules(text.replace("userAccountControl: 513", 'userAccountControl: 514')).version).not.toBe(r.version);
  });

  it('names the file and the line of a YAML syntax error', () => {
    expect(problemsOf('metaverse: { person: [\n')).toMatch(/^invalid rules file rules\.yaml: line \d+, column \d+: /);
  });

  it('names the path and the reason of a schema violation', () => {
    const msg = problemsOf(text.replace('deprovision: disconnector', 'deprovision: vanish'));
    expect(msg).toMatch(/connectors\.exchange\.deprovision: /);
    expect(problemsOf(text.replace('project: person', 'project: person\n        projekt: person'))).toMatch(/connectors\.exchange\.objectTypes\.mailbox: Unrecognized key: "projekt"/);
    expect(problemsOf(text.replace('{ mv: mail, from: mail }', '{ mv: mail }'))).toMatch(/importFlows\.\d+: an import flow needs exactly one of from, constant, dnComponent/);
  });

  it('cross-checks references: object types, connectors, transforms, indexed join attributes', () => {
    expect(problemsOf(text.replace('project: contact', 'project: kontakt'))).toMatch(/connectors\.exchange\.objectTypes\.customRecipient\.project: unknown metaverse object type 'kontakt'/);
    expect(problemsOf(text.replace('transform: sidToString, mv: sid', 'transform: sidToStrin, mv: sid'))).toMatch(
      /connectors\.nt4-contoso\.objectTypes\.user\.join\.0\.match\.0\.transform: unknown transform 'sidToStrin' \(known: .*sidToString/,
    );
    expect(problemsOf(text.replace('sid: { indexed: true,', 'sid: { indexed: false,'))).toMatch(/join\.0\.match\.0\.mv: joins need an indexed metaverse attribute; 'sid' is not indexed on person/);
    expect(problemsOf(text.replace('    connector: nt4-contoso\n    objectType: user', '    connector: nt5\n    objectType: user'))).toMatch(/provisioning\.0\.connector: unknown connector 'nt5'/);
    expect(problemsOf(text.replace('order: [exchange, nt4-contoso]', 'order: [exchange, nt4]'))).toMatch(/metaverse\.person\.attributes\.sid\.order\.1: unknown connector 'nt4'/);
  });

  it('accepts custom transforms registered as extensions, and refuses to replace a built-in', () => {
    const registry = TransformRegistry.withExtensions({ initials: (inputs) => (inputs[0] ?? []).map((v) => String(v).slice(0, 1)) });
    expect(() => loadRules(text.replace('{ mv: sn, from: sn }', '{ mv: sn, from: sn, transform: initials }'), 'x', registry)).not.toThrow();
    expect(problemsOf(text.replace('{ mv: sn, from: sn }', '{ mv: sn, from: sn, transform: initials }'))).toMatch(/unknown transform 'initials'/);
    expect(() => new TransformRegistry().register('lower', () => [])).toThrow(/built in/);
  });
});

describe('transforms', () => {
  const t = BUILTIN_TRANSFORMS;
  it('SID string ↔ binary round trip (MS-DTYP layout)', () => {
    const s = 'S-1-5-21-1144201745-2289526357-3433806489-1001';
    const b = sidFromString(s);
    expect(b[0]).toBe(1);
    expect(b[1]).toBe(5);
    expect(sidToString(b)).toBe(s);
    expect(t['sidToString']!([[{ b64: Buffer.from(b).toString('base64') }]], {})).toEqual([s]);
    expect(() => sidFromString('S-1-x')).toThrow(/not a SID string/);
    expect(() => sidToString(new Uint8Array([1, 2, 0]))).toThrow(/not a SID/);
  });
  it('text transforms', () => {
    expect(t['lower']!([['AbC']], {})).toEqual(['abc']);
    expect(t['upper']!([['AbC']], {})).toEqual(['ABC']);
    expect(t['concat']!([['a'], ['b']], { separator: '.' })).toEqual(['a.b']);
    expect(t['concat']!([['a'], []], {})).toEqual([]);
    expect(t['split']!([['a,b,c']], { separator: ',', index: 1 })).toEqual(['b']);
    expect(t['split']!([['a;b']], { separator: ';' })).toEqual(['a', 'b']);
    expect(t['ntAccount']!([['contoso'], ['alice']], {})).toEqual(['CONTOSO\\alice']);
    expect(t['fromNtAccount']!([['CONTOSO\\alice']], {})).toEqual(['alice']);
    expect(t['fromNtAccount']!([['CONTOSO\\alice']], { part: 'domain' })).toEqual(['CONTOSO']);
    expect(t['dnComponent']!([['cn=a\\,b,cn=Recipients,ou=SiteA']], { index: 3 })).toEqual(['SiteA']);
    expect(dnComponents('cn=a\\,b,ou=x')).toEqual(['a,b', 'x']);
    expect(t['toInteger']!([['513']], {})).toEqual([513]);
    expect(() => t['toInteger']!([['x']], {})).toThrow(/not an integer/);
    expect(() => t['lower']!([[{ b64: 'AA==' }]], {})).toThrow(/expected a text value/);
  });
});
