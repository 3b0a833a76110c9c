/**
 * NT time (FILETIME / NTTIME): 100-nanosecond ticks since 1601-01-01T00:00:00Z, unsigned 64-bit.
 * 0 and 0x7FFFFFFFFFFFFFFF mean "never" (e.g. AccountExpires, PasswordMustChange).
 *
 * ISO strings keep every tick: milliseconds when the sub-millisecond part is zero
 * (`2026-11-23T11:53:47.000Z`), else seven fractional digits (`2026-11-23T11:53:47.1234567Z`),
 * so NT time -> ISO -> NT time is lossless.
 */

export const NT_TIME_NEVER = 0x7fffffffffffffffn;
/** 100-ns ticks from 1601-01-01 to 1970-01-01. */
export const NT_UNIX_EPOCH_DELTA = 116444736000000000n;
const TICKS_PER_MS = 10000n;

export class InvalidNtTime extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidNtTime';
  }
}

function toTicks(value: bigint | string | number): bigint {
  let t: bigint;
  try {
    t = BigInt(value);
  } catch {
    throw new InvalidNtTime(`not an NT time: ${JSON.stringify(String(value))}`);
  }
  if (t < 0n || t > 0xffffffffffffffffn) throw new InvalidNtTime(`NT time out of range: ${t}`);
  return t;
}

export function isNeverNtTime(value: bigint | string | number): boolean {
  const t = toTicks(value);
  return t === 0n || t === NT_TIME_NEVER;
}

const floorDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** NT time -> ISO-8601 UTC string, or null for the "never" values 0 and 0x7FFFFFFFFFFFFFFF. */
export function ntTimeToIso(value: bigint | string | number): string | null {
  const t = toTicks(value);
  if (t === 0n || t === NT_TIME_NEVER) return null;
  if (t > NT_TIME_NEVER) throw new InvalidNtTime(`NT time above 0x7FFFFFFFFFFFFFFF: ${t}`);
  const sinceUnix = t - NT_UNIX_EPOCH_DELTA;
  const ms = floorDiv(sinceUnix, TICKS_PER_MS);
  const rest = sinceUnix - ms * TICKS_PER_MS;
  const date = new Date(Number(ms));
  if (Number.isNaN(date.getTime())) throw new InvalidNtTime(`NT time beyond what a date can show: ${t}`);
  const iso = date.toISOString();
  return rest === 0n ? iso : `${iso.slice(0, -1)}${rest.toString().padStart(4, '0')}Z`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?Z$/;

/** ISO-8601 UTC string (`...Z`, up to 7 fractional digits) -> NT time. */
export function isoToNtTime(iso: string): bigint {
  const m = ISO.exec(iso);
  if (!m) throw new InvalidNtTime(`not an ISO-8601 UTC time (YYYY-MM-DDTHH:MM:SS[.fffffff]Z): ${JSON.stringify(iso)}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  date.setUTCFullYear(y); // Date.UTC maps years 0..99 to 1900..1999
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new InvalidNtTime(`not a valid date: ${iso}`);
  }
  const fraction = BigInt((m[7] ?? '').padEnd(7, '0'));
  const t = BigInt(date.getTime()) * TICKS_PER_MS + fraction + NT_UNIX_EPOCH_DELTA;
  if (t <= 0n) throw new InvalidNtTime(`before 1601-01-01: ${iso}`);
  if (t >= NT_TIME_NEVER) throw new InvalidNtTime(`beyond the NT time range: ${iso}`);
  return t;
}

export const dateToNtTime = (date: Date): bigint => BigInt(date.getTime()) * TICKS_PER_MS + NT_UNIX_EPOCH_DELTA;
