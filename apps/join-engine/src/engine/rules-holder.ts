import { readFileSync } from 'node:fs';
import { loadRules, RulesError, TransformRegistry, type RuleSet, type TransformFn } from '@metaweave/sync-rules';

/**
 * The rules the engine runs with. A reload that fails leaves the previous rules in force and
 * returns the precise error (file, path, reason); the service refuses to start with a bad file.
 */
export class RulesHolder {
  private ruleset: RuleSet;

  constructor(
    private readonly file: string,
    private readonly extensions: Readonly<Record<string, TransformFn>> = {},
  ) {
    this.ruleset = this.read();
  }

  static fromText(text: string, file = '<inline>'): RulesHolder {
    const holder = Object.create(RulesHolder.prototype) as RulesHolder;
    Object.assign(holder, { file, extensions: {}, ruleset: loadRules(text, file) });
    return holder;
  }

  get current(): RuleSet {
    return this.ruleset;
  }

  /** Re-reads the file. Returns the new version, or the error while the previous rules stay. */
  reload(): { ok: true; version: string; previous: string } | { ok: false; error: string; version: string } {
    try {
      const next = this.read();
      const previous = this.ruleset.version;
      this.ruleset = next;
      return { ok: true, version: next.version, previous };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error), version: this.ruleset.version };
    }
  }

  /** Replace the rules with a given text (tests, and the same validation as a file). */
  replace(text: string, file = this.file): RuleSet {
    this.ruleset = loadRules(text, file, TransformRegistry.withExtensions(this.extensions));
    return this.ruleset;
  }

  private read(): RuleSet {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      throw new RulesError(this.file, [{ path: '(file)', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
    }
    return loadRules(text, this.file, TransformRegistry.withExtensions(this.extensions));
  }
}
