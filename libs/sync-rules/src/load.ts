import { createHash } from 'node:crypto';
import YAML from 'yaml';
import type { z } from 'zod';
import { rulesFileSchema, type RulesFile } from './model';
import { TransformRegistry } from './transforms';

/** One problem of a rules file: where (a dotted path into the document) and why. */
export interface RulesProblem {
  readonly path: string;
  readonly message: string;
}

/** A rules file that cannot be used. The message names the file, every bad path and the reason. */
export class RulesError extends Error {
  readonly retriable = false;
  constructor(
    readonly file: string,
    readonly problems: readonly RulesProblem[],
  ) {
    super(`invalid rules file ${file}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'RulesError';
  }
}

/** Validated rules with their version (sha256 of the canonical JSON form) and transforms. */
export interface RuleSet {
  readonly file: string;
  readonly version: string;
  readonly rules: RulesFile;
  readonly transforms: TransformRegistry;
}

/** JSON with object keys sorted at every level: the same rules always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const pathOf = (p: readonly PropertyKey[]): string => (p.length === 0 ? '(root)' : p.map(String).join('.'));

/** Parses, validates and cross-checks a rules file. Throws RulesError naming file, path and reason. */
export function loadRules(text: string, file = '<rules>', transforms = new TransformRegistry()): RuleSet {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new RulesError(
      file,
      doc.errors.map((e) => {
        const pos = (e as { linePos?: { start?: { line: number; col: number } } | { line: number; col: number }[] }).linePos;
        const start = Array.isArray(pos) ? pos[0] : pos?.start;
        return { path: start ? `line ${start.line}, column ${start.col}` : '(yaml)', message: e.message.split('\n')[0]! };
      }),
    );
  }
  const parsed = rulesFileSchema.safeParse(doc.toJSON());
  if (!parsed.success) throw new RulesError(file, parsed.error.issues.map((i: z.core.$ZodIssue) => ({ path: pathOf(i.path), message: i.message })));
  const rules = parsed.data;
  const problems = crossCheck(rules, transforms);
  if (problems.length > 0) throw new RulesError(file, problems);
  const version = createHash('sha256').update(canonicalJson(rules)).digest('hex');
  return { file, version, rules, transforms };
}

/** What the schema cannot say: references between parts of the file. */
function crossCheck(rules: RulesFile, transforms: TransformRegistry): RulesProblem[] {
  const problems: RulesProblem[] = [];
  const connectors = Object.keys(rules.connectors);
  const mvTypes = rules.metaverse;
  const checkTransform = (path: string, t: string | undefined) => {
    if (t !== undefined && !transforms.get(t)) problems.push({ path: `${path}.transform`, message: `unknown transform '${t}' (known: ${transforms.names().join(', ')})` });
  };
  for (const [mvType, def] of Object.entries(mvTypes)) {
    if (typeof def.deletion === 'object') {
      def.deletion.authoritative.forEach((c, i) => {
        if (!connectors.includes(c)) problems.push({ path: `metaverse.${mvType}.deletion.authoritative.${i}`, message: `unknown connector '${c}'` });
      });
    }
    for (const [attr, a] of Object.entries(def.attributes)) {
      (a.order ?? []).forEach((c, i) => {
        if (!connectors.includes(c)) problems.push({ path: `metaverse.${mvType}.attributes.${attr}.order.${i}`, message: `unknown connector '${c}'` });
      });
    }
  }
  for (const [connector, c] of Object.entries(rules.connectors)) {
    for (const [csType, t] of Object.entries(c.objectTypes)) {
      const base = `connectors.${connector}.objectTypes.${csType}`;
      if (t.project !== undefined && !mvTypes[t.project]) problems.push({ path: `${base}.project`, message: `unknown metaverse object type '${t.project}'` });
      t.join.forEach((g, gi) => {
        if (g.mvType !== undefined && !mvTypes[g.mvType]) problems.push({ path: `${base}.join.${gi}.mvType`, message: `unknown metaverse object type '${g.mvType}'` });
        g.match.forEach((m, mi) => {
          const path = `${base}.join.${gi}.match.${mi}`;
          checkTransform(path, m.transform);
          const types = g.mvType ? [g.mvType] : Object.keys(mvTypes);
          if (!types.some((mt) => mvTypes[mt]?.attributes[m.mv]?.indexed)) {
            problems.push({ path: `${path}.mv`, message: `joins need an indexed metaverse attribute; '${m.mv}' is not indexed on ${types.join('/')}` });
          }
        });
      });
      t.importFlows.forEach((f, i) => checkTransform(`${base}.importFlows.${i}`, f.transform));
      t.exportFlows.forEach((f, i) => checkTransform(`${base}.exportFlows.${i}`, f.transform));
    }
  }
  rules.provisioning.forEach((p, i) => {
    const path = `provisioning.${i}`;
    if (!mvTypes[p.mvType]) problems.push({ path: `${path}.mvType`, message: `unknown metaverse object type '${p.mvType}'` });
    const target = rules.connectors[p.connector];
    if (!target) problems.push({ path: `${path}.connector`, message: `unknown connector '${p.connector}'` });
    else if (!target.objectTypes[p.objectType]) problems.push({ path: `${path}.objectType`, message: `connector '${p.connector}' has no rules for object type '${p.objectType}'` });
    p.when.forEach((w, wi) => {
      if ('connectedTo' in w && !connectors.includes(w.connectedTo)) problems.push({ path: `${path}.when.${wi}.connectedTo`, message: `unknown connector '${w.connectedTo}'` });
    });
  });
  return problems;
}
