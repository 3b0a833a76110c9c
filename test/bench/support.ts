import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { REPO_ROOT } from '@metaweave/testing';

/** Shared pieces of the benchmarks: percentiles, the results file, a histogram PNG, the floors. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
}

/** Prints a titled table and merges `figures` under `key` into bench-results.json at the repo root. */
export function report(key: string, title: string, rows: Record<string, Record<string, unknown>>, figures: Record<string, unknown> = {}): void {
  process.stdout.write(`\n${title} (this machine, ${new Date().toISOString()})\n`);
  // eslint-disable-next-line no-console -- a benchmark prints its table
  console.table(rows);
  const file = join(REPO_ROOT, 'bench-results.json');
  const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  results[key] = { at: new Date().toISOString(), ...figures, rows };
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

// ------------------------------------------------------------------ histogram PNG, no dependency

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Encodes an RGB image (width × height × 3 bytes) as PNG. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A 3×5 pixel font for axis labels: digits and the few letters the labels need. */
const FONT: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111', '4': '101101111001001',
  '5': '111100111001111', '6': '111100111101111', '7': '111001001001001', '8': '111101111101111', '9': '111101111001111',
  m: '000000111111101', s: '000011110011110', p: '000111101111100', '.': '000000000000010', ' ': '000000000000000', '=': '000111000111000',
};

function drawText(set: (x: number, y: number, c: readonly [number, number, number]) => void, text: string, x0: number, y0: number, colour: readonly [number, number, number], scale = 2): void {
  [...text].forEach((ch, k) => {
    const glyph = FONT[ch] ?? FONT[' ']!;
    for (let gy = 0; gy < 5; gy++)
      for (let gx = 0; gx < 3; gx++)
        if (glyph[gy * 3 + gx] === '1') for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) set(x0 + (k * 4 + gx) * scale + dx, y0 + gy * scale + dy, colour);
  });
}

/**
 * A latency histogram as a PNG: log-spaced buckets from 1 ms to the max on the x axis, bar height
 * = share of samples, with markers for p50 (green), p95 (orange) and p99 (red). No text rendering:
 * the bucket bounds and percentiles go in the JSON and the printed table next to it.
 */
export function histogramPng(samplesMs: readonly number[], width = 800, height = 300): { png: Buffer; buckets: { upToMs: number; count: number }[] } {
  const s = summarize(samplesMs);
  const img = new Uint8Array(width * height * 3).fill(255);
  const set = (x: number, y: number, [r, g, b]: readonly [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    img[i] = r;
    img[i + 1] = g;
    img[i + 2] = b;
  };
  const nBuckets = 40;
  const lo = Math.log10(1);
  const hi = Math.log10(Math.max(2, s.max * 1.05));
  const bound = (i: number) => 10 ** (lo + ((hi - lo) * (i + 1)) / nBuckets);
  const counts = new Array<number>(nBuckets).fill(0);
  for (const v of samplesMs) {
    const i = Math.min(nBuckets - 1, Math.max(0, Math.floor(((Math.log10(Math.max(1, v)) - lo) / (hi - lo)) * nBuckets)));
    counts[i]!++;
  }
  const peak = Math.max(1, ...counts);
  const margin = 30;
  const plotW = width - 2 * margin;
  const plotH = height - 2 * margin;
  const barW = Math.floor(plotW / nBuckets);
  counts.forEach((c, i) => {
    const h = Math.round((c / peak) * plotH);
    for (let x = margin + i * barW + 1; x < margin + (i + 1) * barW - 1; x++) for (let y = height - margin - h; y < height - margin; y++) set(x, y, [70, 110, 200]);
  });
  for (let x = margin; x < width - margin; x++) set(x, height - margin, [0, 0, 0]);
  for (let y = margin; y <= height - margin; y++) set(margin, y, [0, 0, 0]);
  const xOf = (v: number) => margin + Math.round(((Math.log10(Math.max(1, v)) - lo) / (hi - lo)) * plotW);
  const marks: [number, [number, number, number]][] = [
    [s.p50, [0, 160, 0]],
    [s.p95, [230, 140, 0]],
    [s.p99, [210, 0, 0]],
  ];
  for (const [v, colour] of marks) for (let y = margin; y < height - margin; y++) for (const dx of [0, 1]) set(xOf(v) + dx, y, colour);
  // x axis: decades in ms; top: the percentiles in their marker colours.
  for (let d = 1; d <= 10 ** Math.ceil(hi); d *= 10) {
    if (Math.log10(d) > hi) break;
    for (let y = height - margin; y < height - margin + 4; y++) set(xOf(d), y, [0, 0, 0]);
    drawText(set, `${d}ms`, xOf(d) - 4, height - margin + 7, [0, 0, 0]);
  }
  marks.forEach(([v, colour], i) => drawText(set, `p${[50, 95, 99][i]}=${Math.round(v)}ms`, margin + 10 + i * 150, 8, colour));
  return { png: encodePng(width, height, img), buckets: counts.map((count, i) => ({ upToMs: Math.round(bound(i) * 10) / 10, count })) };
}

// ------------------------------------------------------------------ floors

/** Time to COPY `n` rows of `width` bytes of text into a throw-away PostgreSQL table with psql. */
export function copyFloorMs(adminUrl: string, n: number, width = 200): number {
  const table = `bench_copy_${process.pid}`;
  const row = 'x'.repeat(width);
  const data = Array.from({ length: n }, (_, i) => `${i}\t${row}`).join('\n') + '\n';
  const psql = (args: string[], input?: string) => {
    const r = spawnSync('psql', [adminUrl, '-v', 'ON_ERROR_STOP=1', '-q', ...args], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  };
  psql(['-c', `CREATE UNLOGGED TABLE IF NOT EXISTS ${table} (id int, body text); TRUNCATE ${table}`]);
  const t = process.hrtime.bigint();
  psql(['-c', `COPY ${table} FROM STDIN`], data);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  psql(['-c', `DROP TABLE ${table}`]);
  return ms;
}
