import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RulesError } from '@metaweave/sync-rules';
import { RulesHolder } from './rules-holder';

const DEFAULT = readFileSync(join(__dirname, '..', '..', '..', '..', 'config', 'rules', 'default.yaml'), 'utf8');

describe('RulesHolder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-rules-'));
  const file = join(dir, 'rules.yaml');

  it('refuses an invalid file at reload with file, path and reason, and keeps the running rules', () => {
    writeFileSync(file, DEFAULT);
    const holder = new RulesHolder(file);
    const running = holder.current.version;
    writeFileSync(file, DEFAULT.replace('project: contact', 'project: kontakt'));
    const result = holder.reload();
    expect(result).toEqual({
      ok: false,
      version: running,
      error: `invalid rules file ${file}: connectors.exchange.objectTypes.customRecipient.project: unknown metaverse object type 'kontakt'`,
    });
    expect(holder.current.version).toBe(running);
    writeFileSync(file, DEFAULT.replace("description: 'provisioned by Metaweave from Exchange'", "description: 'provisioned'"));
    const ok = holder.reload();
    expect(ok).toMatchObject({ ok: true, previous: running });
    expect(holder.current.version).not.toBe(running);
  });

  it('refuses to start on a missing or invalid file', () => {
    expect(() => new RulesHolder(join(dir, 'missing.yaml'))).toThrow(new RulesError(join(dir, 'missing.yaml'), [{ path: '(file)', message: 'cannot read: ENOENT' }]));
    writeFileSync(file, 'metaverse: {}\nconnectors: { x: { deprovision: never } }\n');
    expect(() => new RulesHolder(file)).toThrow(/connectors\.x\.deprovision: Invalid option/);
  });

  it('loads every rules file the tests ship', () => {
    for (const f of ['config/rules/default.yaml', 'test/fixtures/rules/nt4-users-project.yaml']) {
      expect(() => new RulesHolder(join(__dirname, '..', '..', '..', '..', f))).not.toThrow();
    }
  });
});
