import { ConnectorError, type ConnectorErrorType, type CsImage, type ExportOperation } from '@metaweave/connector-sdk';
import type { AttributeDelta, AttributeValue, Attributes } from '@metaweave/contracts';
import {
  NT4_GROUP,
  NT4_USER,
  SamrError,
  groupToCsImage,
  splitAccountSid,
  userFieldsFromAttributes,
  userToCsImage,
  type SamrDomain,
  type SamrStatus,
} from '@metaweave/samr';

/**
 * Export to an NT 4.0 domain over SAMR (domain.md §3.6): users (CreateUser2 + SetUserInfo2
 * level 21 with only the fields given, enabled unless the flags say otherwise), updates of any
 * writable attribute (level 21, only the changed fields; userAccountControl through the UF→ACB
 * translation), renames (accountName), deletes; global groups (create, rename, description,
 * delete) and membership (`member` of a group or `groups` of a user, as `{ ref: <SID> }`). Every
 * operation ends by reading the object back (the confirming import). SAMR refusals become typed
 * ConnectorErrors that name the NT_STATUS.
 */
export class Nt4Exporter {
  constructor(
    private readonly d: SamrDomain,
    private readonly domain: string,
  ) {}

  private get ctx() {
    return { domain: this.domain, domainSid: this.d.description.domainSid };
  }

  async apply(op: ExportOperation): Promise<CsImage | null> {
    try {
      switch (op.op) {
        case 'add':
          return op.objectType === NT4_GROUP ? await this.addGroup(op.dn, op.attributes) : await this.addUser(op.dn, op.objectType, op.attributes);
        case 'update':
          return await this.update(op.anchor, op.objectType, op.changes);
        case 'rename':
          return await this.rename(op.anchor, op.newDn);
        case 'delete':
          return await this.delete(op.anchor);
      }
    } catch (error) {
      throw toConnectorError(error, `${op.op} of ${op.dn}`);
    }
  }

  // users -------------------------------------------------------------------------------------
  private async addUser(dn: string, objectType: string, attributes: Attributes): Promise<CsImage> {
    if (objectType !== NT4_USER) throw new ConnectorError('invalid-value', `object type '${objectType}' is not in the NT4 schema (user, group)`);
    const accountName = this.nameFromDn(dn);
    const { groups, ...rest } = lowerKeys(attributes, ['groups']);
    const { fields } = userFieldsFromAttributes(rest);
    const { accountName: given, acb, ...others } = fields;
    if (given !== undefined && given.toLowerCase() !== accountName.toLowerCase()) {
      throw new ConnectorError('invalid-value', `accountName '${given}' does not match the DN ${dn}`);
    }
    const user = await this.d.createUser({
      accountName,
      ...(acb !== undefined ? { acb } : { enabled: true }),
      ...(Object.keys(others).length > 0 ? { fields: others } : {}),
    });
    for (const ref of refs(groups ?? [])) await this.member('add', this.ridOf(ref), user.rid);
    return this.readUser(user.rid);
  }

  private async updateUser(rid: number, changes: readonly AttributeDelta[]): Promise<CsImage> {
    const attrs: Record<string, AttributeValue[]> = {};
    for (const c of changes) {
      if (c.name.toLowerCase() === 'groups') {
        await this.membershipChange(c, async (groupRid, how) => this.member(how, groupRid, rid), async () => (await this.d.getUser(rid)).groups.map((g) => g.rid));
        continue;
      }
      attrs[c.name] = c.op === 'delete' ? [] : [...c.values];
    }
    if (Object.keys(attrs).length > 0) {
      const { fields } = userFieldsFromAttributes(attrs as Attributes);
      if (Object.keys(fields).length > 0) await this.d.updateUser(rid, { fields });
    }
    return this.readUser(rid);
  }

  private async readUser(rid: number): Promise<CsImage> {
    return userToCsImage(await this.d.getUser(rid), this.ctx);
  }

  // groups ------------------------------------------------------------------------------------
  private async addGroup(dn: string, attributes: Attributes): Promise<CsImage> {
    const name = this.nameFromDn(dn);
    const a = lowerKeys(attributes, ['name', 'description', 'member']);
    if (a['name']?.[0] !== undefined && String(a['name'][0]).toLowerCase() !== name.toLowerCase()) {
      throw new ConnectorError('invalid-value', `name '${String(a['name'][0])}' does not match the DN ${dn}`);
    }
    const description = a['description']?.[0];
    const group = await this.d.createGroup({ name, ...(typeof description === 'string' && description ? { description } : {}) });
    for (const ref of refs(a['member'] ?? [])) await this.member('add', group.rid, this.ridOf(ref));
    return this.readGroup(group.rid);
  }

  private async updateGroup(rid: number, changes: readonly AttributeDelta[]): Promise<CsImage> {
    const spec: { name?: string; description?: string } = {};
    for (const c of changes) {
      const name = c.name.toLowerCase();
      if (name === 'member') {
        await this.membershipChange(c, async (userRid, how) => this.member(how, rid, userRid), async () => (await this.d.getGroup(rid)).members.map((m) => m.rid));
      } else if (name === 'name' || name === 'description') {
        const v = c.op === 'delete' ? '' : c.values[0];
        if (typeof v !== 'string' || (name === 'name' && !v)) throw new ConnectorError('invalid-value', `${c.name} must be a${name === 'name' ? ' non-empty' : ''} string`);
        spec[name] = v;
      } else {
        throw new ConnectorError('invalid-value', `${c.name} is not a writable attribute of an NT4 group (name, description, member)`);
      }
    }
    if (spec.name !== undefined || spec.description !== undefined) await this.d.updateGroup(rid, spec);
    return this.readGroup(rid);
  }

  private async readGroup(rid: number): Promise<CsImage> {
    return groupToCsImage(await this.d.getGroup(rid), this.ctx);
  }

  // both --------------------------------------------------------------------------------------
  private async update(anchor: string, objectType: string, changes: readonly AttributeDelta[]): Promise<CsImage> {
    const rid = this.ridOf(anchor);
    return objectType === NT4_GROUP ? this.updateGroup(rid, changes) : this.updateUser(rid, changes);
  }

  private async rename(anchor: string, newDn: string): Promise<CsImage> {
    const rid = this.ridOf(anchor);
    const name = this.nameFromDn(newDn);
    if ((await this.kindOf(rid)) === NT4_GROUP) {
      await this.d.updateGroup(rid, { name });
      return this.readGroup(rid);
    }
    try {
      await this.d.renameUser(rid, name);
    } catch (error) {
      if (error instanceof SamrError && error.status === 'ACCESS_DENIED') {
        throw new ConnectorError(
          'insufficient-rights',
          `the domain refused to rename the account (${error.ntStatus ?? 'NT_STATUS_ACCESS_DENIED'}); a Samba PDC renames only with a 'rename user script' in smb.conf`,
        );
      }
      throw error;
    }
    return this.readUser(rid);
  }

  private async delete(anchor: string): Promise<null> {
    const rid = this.ridOf(anchor);
    if ((await this.kindOf(rid)) === NT4_GROUP) await this.d.deleteGroup(rid, { removeMembers: true });
    else await this.d.deleteUser(rid);
    return null;
  }

  /** A RID is a user or a group; ask the domain which. */
  private async kindOf(rid: number): Promise<typeof NT4_USER | typeof NT4_GROUP> {
    try {
      await this.d.getUser(rid);
      return NT4_USER;
    } catch (error) {
      if (!(error instanceof SamrError && error.status === 'NO_SUCH_USER')) throw error;
    }
    await this.d.getGroup(rid); // NO_SUCH_GROUP if neither
    return NT4_GROUP;
  }

  private async membershipChange(c: AttributeDelta, apply: (rid: number, how: 'add' | 'remove') => Promise<void>, current: () => Promise<number[]>): Promise<void> {
    const wanted = refs(c.values).map((r) => this.ridOf(r));
    if (c.op === 'add') {
      for (const rid of wanted) await apply(rid, 'add');
    } else if (c.op === 'delete') {
      for (const rid of wanted.length > 0 ? wanted : await current()) await apply(rid, 'remove');
    } else {
      const have = new Set(await current());
      for (const rid of wanted) if (!have.has(rid)) await apply(rid, 'add');
      for (const rid of have) if (!wanted.includes(rid)) await apply(rid, 'remove');
    }
  }

  /** Membership writes are idempotent: already a member / already not a member is success. */
  private async member(how: 'add' | 'remove', groupRid: number, userRid: number): Promise<void> {
    try {
      if (how === 'add') await this.d.addMember(groupRid, userRid);
      else await this.d.removeMember(groupRid, userRid);
    } catch (error) {
      if (error instanceof SamrError && error.status === (how === 'add' ? 'MEMBER_IN_GROUP' : 'MEMBER_NOT_IN_GROUP')) return;
      throw error;
    }
  }

  private ridOf(sid: string): number {
    let parts: { domainSid: string; rid: number };
    try {
      parts = splitAccountSid(sid);
    } catch {
      throw new ConnectorError('invalid-value', `'${sid}' is not an account SID`);
    }
    if (parts.domainSid !== this.d.description.domainSid) {
      throw new ConnectorError('unknown-object', `${sid} is not an account of domain ${this.domain} (${this.d.description.domainSid})`);
    }
    return parts.rid;
  }

  private nameFromDn(dn: string): string {
    const cut = dn.indexOf('\\');
    const domain = cut < 0 ? '' : dn.slice(0, cut);
    const name = dn.slice(cut + 1);
    if (cut < 0 || domain.toUpperCase() !== this.domain.toUpperCase() || !name) {
      throw new ConnectorError('invalid-value', `'${dn}' is not a DN of domain ${this.domain} (expected ${this.domain}\\accountName)`);
    }
    return name;
  }
}

function refs(values: readonly AttributeValue[]): string[] {
  return values.map((v) => {
    if (typeof v === 'object' && v !== null && 'ref' in v && typeof v.ref === 'string') return v.ref;
    throw new ConnectorError('invalid-value', `membership values must be references { ref: <SID> }; got ${JSON.stringify(v)}`);
  });
}

/** Picks the attributes named in `names` (case-insensitive) out of `attrs`; the rest stay under their names. */
function lowerKeys(attrs: Attributes, names: readonly string[]): Record<string, AttributeValue[] | undefined> & Attributes {
  const out: Record<string, AttributeValue[]> = {};
  for (const [k, v] of Object.entries(attrs)) {
    const known = names.find((n) => n.toLowerCase() === k.toLowerCase());
    out[known ?? k] = [...v];
  }
  return out as Record<string, AttributeValue[] | undefined> & Attributes;
}

const TYPES: Partial<Record<SamrStatus, ConnectorErrorType>> = {
  USER_EXISTS: 'already-exists',
  GROUP_EXISTS: 'already-exists',
  NO_SUCH_USER: 'unknown-object',
  NO_SUCH_GROUP: 'unknown-object',
  NO_SUCH_DOMAIN: 'unknown-object',
  ACCESS_DENIED: 'insufficient-rights',
  INVALID_PARAMETER: 'invalid-value',
  NAME_TOO_LONG: 'invalid-value',
  PASSWORD_RESTRICTION: 'invalid-value',
  LOGON_FAILURE: 'invalid-credentials',
  WRONG_PASSWORD: 'invalid-credentials',
  UNREACHABLE: 'connection-broken',
  CONNECTION_BROKEN: 'connection-broken',
  TIMEOUT: 'connection-broken',
};

/** A SAMR failure as the typed error of an export, naming the NT_STATUS and what was refused. */
export function toConnectorError(error: unknown, what: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (error instanceof SamrError) {
    const type = TYPES[error.status] ?? 'other';
    const status = error.ntStatus ?? error.status;
    const message = error.message.includes(status) ? error.message : `${status}: ${error.message}`;
    return new ConnectorError(type, `${what} refused: ${message}`, error.retriable);
  }
  return new ConnectorError('other', `${what} failed: ${(error as Error).message}`);
}
