import type { AttributeValue } from '@metaweave/contracts';
import type { CsImage } from './cs-diff';
import type { ExportOperation } from './spi';

const canon = (v: AttributeValue) => JSON.stringify(v);

function valuesOf(image: CsImage | null, name: string): Set<string> {
  if (!image) return new Set();
  const key = Object.keys(image.attributes).find((k) => k.toLowerCase() === name.toLowerCase());
  return new Set((key ? image.attributes[key]! : []).map(canon));
}

/**
 * The confirming import: which exported attributes the read-back does not show as exported
 * (MIIS `exported-change-not-reimported`). Empty when the directory kept everything.
 */
export function notReimported(operation: ExportOperation, readBack: CsImage | null): string[] {
  const missing = new Set<string>();
  if (operation.op === 'add') {
    for (const [name, values] of Object.entries(operation.attributes)) {
      if (name.toLowerCase() === 'objectclass') continue;
      const have = valuesOf(readBack, name);
      if (values.some((v) => !have.has(canon(v)))) missing.add(name);
    }
  } else if (operation.op === 'update') {
    for (const change of operation.changes) {
      const have = valuesOf(readBack, change.name);
      const want = change.values.map(canon);
      const ok =
        change.op === 'replace'
          ? have.size === want.length && want.every((v) => have.has(v))
          : change.op === 'add'
            ? want.every((v) => have.has(v))
            : want.length === 0
              ? have.size === 0
              : want.every((v) => !have.has(v));
      if (!ok) missing.add(change.name);
    }
  } else if (operation.op === 'rename') {
    if (!readBack || readBack.dn.toLowerCase() !== operation.newDn.toLowerCase()) missing.add('dn');
  } else if (readBack) {
    missing.add('dn');
  }
  return [...missing].sort();
}
