import { inflateSync } from 'node:zlib';
import { encodePng, histogramPng, percentile, summarize } from './support';

describe('bench support', () => {
  it('percentiles by nearest rank', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(s, 50), percentile(s, 95), percentile(s, 99), percentile(s, 100)]).toEqual([50, 95, 99, 100]);
    expect(summarize([5, 1, 3])).toEqual({ count: 3, p50: 3, p95: 5, p99: 5, max: 5 });
  });

  it('writes a valid PNG whose pixels decode back', () => {
    const png = encodePng(2, 1, Uint8Array.from([255, 0, 0, 0, 0, 255]));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    const idat = png.indexOf('IDAT');
    const len = png.readUInt32BE(idat - 4);
    expect([...inflateSync(png.subarray(idat + 4, idat + 4 + len))]).toEqual([0, 255, 0, 0, 0, 0, 255]);
  });

  it('buckets every sample of a histogram', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1 + (i % 400));
    const { png, buckets } = histogramPng(samples);
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(1000);
    expect(png.length).toBeGreaterThan(100);
  });
});
