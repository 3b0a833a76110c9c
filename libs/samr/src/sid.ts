/**
 * Security identifiers, MS-DTYP 2.4.2: the string form `S-1-5-21-a-b-c-RID` and the binary
 * (packet) form — Revision (1 byte, always 1), SubAuthorityCount (1 byte, at most 15),
 * IdentifierAuthority (6 bytes, most significant first), then SubAuthorityCount little-endian
 * uint32 sub-authorities. NT4 `objectSid` and Exchange 5.5 `Assoc-NT-Account` compare byte-equal.
 */

export class InvalidSid extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSid';
  }
}

const MAX_SUB_AUTHORITIES = 15;
const AUTHORITY_MAX = 2n ** 48n - 1n;
const UINT32_MAX = 0xffffffff;

/** Binary SID -> canonical string (authority in decimal below 2^32, else `0x` + 12 hex digits). */
export function sidToString(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 8) throw new InvalidSid(`a SID has at least 8 bytes, got ${b.length}`);
  const revision = b[0]!;
  const count = b[1]!;
  if (revision !== 1) throw new InvalidSid(`SID revision must be 1, got ${revision}`);
  if (count > MAX_SUB_AUTHORITIES) throw new InvalidSid(`a SID has at most ${MAX_SUB_AUTHORITIES} sub-authorities, got ${count}`);
  if (b.length !== 8 + 4 * count) throw new InvalidSid(`a SID with ${count} sub-authorities has ${8 + 4 * count} bytes, got ${b.length}`);
  let authority = 0n;
  for (let i = 2; i < 8; i++) authority = (authority << 8n) | BigInt(b[i]!);
  const parts = ['S', '1', authority < 2n ** 32n ? authority.toString(10) : `0x${authority.toString(16).toUpperCase().padStart(12, '0')}`];
  for (let i = 0; i < count; i++) parts.push(String(b.readUInt32LE(8 + 4 * i)));
  return parts.join('-');
}

const SID_STRING = /^S-1-(0x[0-9A-Fa-f]{12}|\d+)((?:-\d+)*)$/;

/** String SID -> binary. Rejects leading zeros, out-of-range numbers and more than 15 sub-authorities. */
export function sidFromString(sid: string): Buffer {
  const m = SID_STRING.exec(sid);
  if (!m) throw new InvalidSid(`not a SID string: ${JSON.stringify(sid)}`);
  const authText = m[1]!;
  const authority = authText.startsWith('0x') ? BigInt(authText) : decimal(authText, AUTHORITY_MAX, sid);
  if (authText.startsWith('0x') && authority < 2n ** 32n) throw new InvalidSid(`authority below 2^32 must be decimal: ${sid}`);
  const subs = m[2] ? m[2].slice(1).split('-') : [];
  if (subs.length > MAX_SUB_AUTHORITIES) throw new InvalidSid(`a SID has at most ${MAX_SUB_AUTHORITIES} sub-authorities: ${sid}`);
  const out = Buffer.alloc(8 + 4 * subs.length);
  out[0] = 1;
  out[1] = subs.length;
  for (let i = 0; i < 6; i++) out[2 + i] = Number((authority >> BigInt(8 * (5 - i))) & 0xffn);
  subs.forEach((s, i) => out.writeUInt32LE(Number(decimal(s, BigInt(UINT32_MAX), sid)), 8 + 4 * i));
  return out;
}

function decimal(text: string, max: bigint, sid: string): bigint {
  if (text.length > 1 && text.startsWith('0')) throw new InvalidSid(`leading zero in ${JSON.stringify(sid)}`);
  const n = BigInt(text);
  if (n > max) throw new InvalidSid(`${text} is out of range in ${JSON.stringify(sid)}`);
  return n;
}

/** The account SID of `rid` in the domain `domainSid` (string form). */
export function accountSid(domainSid: string, rid: number): string {
  if (!Number.isInteger(rid) || rid < 0 || rid > UINT32_MAX) throw new InvalidSid(`RID out of range: ${rid}`);
  sidFromString(domainSid); // validates
  return `${domainSid}-${rid}`;
}

/** Splits an account SID into its domain SID and RID (the last sub-authority). */
export function splitAccountSid(sid: string): { domainSid: string; rid: number } {
  const bytes = sidFromString(sid);
  if (bytes[1] === 0) throw new InvalidSid(`${sid} has no RID`);
  const cut = sid.lastIndexOf('-');
  return { domainSid: sid.slice(0, cut), rid: Number(sid.slice(cut + 1)) };
}
