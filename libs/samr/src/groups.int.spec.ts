// Global groups and membership against the live Samba classic PDC.
import { stackEnv, uniqueSuffix } from '@metaweave/testing';
import type { SamrDomain } from './bridge';
import { connectStandIn, expectStatus } from './int-support';
import { groupToCsImage } from './nt4-schema';

const prefix = `sg${uniqueSuffix().slice(0, 5)}`;
const env = stackEnv();
let standIn: Awaited<ReturnType<typeof connectStandIn>>;
let domain: SamrDomain;


beforeAll(async () => {
  standIn = await connectStandIn(prefix);
  domain = standIn.domain;
});

afterAll(() => standIn?.close());

describe('SAMR global groups (live Samba)', () => {
  it('creates a group with a description, lists it, and refuses a duplicate with GROUP_EXISTS', async () => {
    const g = await domain.createGroup({ name: `${prefix}staff`, description: 'All staff' });
    expect(g).toMatchObject({ name: `${prefix}staff`, description: 'All staff', memberCount: 0, members: [] });
    expect(await domain.getGroup(g.rid)).toEqual(g);
    expect((await domain.listGroups()).find((x) => x.rid === g.rid)).toMatchObject({ name: `${prefix}staff`, description: 'All staff' });
    const e = await expectStatus(domain.createGroup({ name: `${prefix}staff` }), 'GROUP_EXISTS');
    expect(e.category).toBe('AlreadyExists');
    // a group may not take a user's name either
    const u = await domain.createUser({ accountName: `${prefix}taken` });
    await expectStatus(domain.createGroup({ name: `${prefix}taken` }), 'USER_EXISTS');
    await domain.deleteUser(u.rid);
  });

  it('adds and removes members, seen from both sides, with typed errors for repeats', async () => {
    const g = await domain.createGroup({ name: `${prefix}ops` });
    const a = await domain.createUser({ accountName: `${prefix}m1` });
    const b = await domain.createUser({ accountName: `${prefix}m2` });
    await domain.addMember(g.rid, a.rid);
    await domain.addMember(g.rid, b.rid);
    const full = await domain.getGroup(g.rid);
    expect(full.members.map((m) => m.rid).sort()).toEqual([a.rid, b.rid].sort());
    expect(full.memberCount).toBe(2);
    expect((await domain.getUser(a.rid)).groups.map((x) => x.rid)).toEqual(expect.arrayContaining([513, g.rid]));

    const image = groupToCsImage(full, { domain: domain.name, domainSid: domain.domainSid });
    expect(image.attributes['member']).toEqual(
      [a.rid, b.rid].sort((x, y) => x - y).map((rid) => ({ ref: `${env['MW_SAMBA_DOMAIN_SID']}-${rid}` })),
    );

    await expectStatus(domain.addMember(g.rid, a.rid), 'MEMBER_IN_GROUP');
    await domain.removeMember(g.rid, a.rid);
    await expectStatus(domain.removeMember(g.rid, a.rid), 'MEMBER_NOT_IN_GROUP');
    expect((await domain.getGroup(g.rid)).members.map((m) => m.rid)).toEqual([b.rid]);
    expect((await domain.getUser(a.rid)).groups.map((x) => x.rid)).not.toContain(g.rid);
  });

  it('refuses membership of a missing user (NO_SUCH_USER) and of a missing group (NO_SUCH_GROUP)', async () => {
    const g = await domain.createGroup({ name: `${prefix}miss` });
    await expectStatus(domain.addMember(g.rid, 0x7ffffff0), 'NO_SUCH_USER');
    await expectStatus(domain.addMember(0x7ffffff0, 1000), 'NO_SUCH_GROUP');
    await expectStatus(domain.getGroup(0x7ffffff0), 'NO_SUCH_GROUP');
  });

  it('renames a group and changes its description', async () => {
    const g = await domain.createGroup({ name: `${prefix}before` });
    const after = await domain.updateGroup(g.rid, { name: `${prefix}after`, description: 'renamed' });
    expect(after).toMatchObject({ rid: g.rid, name: `${prefix}after`, description: 'renamed' });
    expect((await domain.lookupNames([`${prefix}after`, `${prefix}before`])).map((x) => x.rid)).toEqual([g.rid, null]);
  });

  it('deletes a group (with its members when asked), after which it is NO_SUCH_GROUP', async () => {
    const g = await domain.createGroup({ name: `${prefix}del` });
    const u = await domain.createUser({ accountName: `${prefix}dm` });
    await domain.addMember(g.rid, u.rid);
    await domain.deleteGroup(g.rid, { removeMembers: true });
    await expectStatus(domain.getGroup(g.rid), 'NO_SUCH_GROUP');
    expect((await domain.getUser(u.rid)).groups.map((x) => x.rid)).not.toContain(g.rid);
  });

  it('reads groups in a batch with per-object errors', async () => {
    const g = await domain.createGroup({ name: `${prefix}batch` });
    const items = await domain.getGroups([513, g.rid, 0x7ffffff0]);
    expect(items.map((i) => i.ok)).toEqual([true, true, false]);
    expect(items[0]!.ok && items[0]!.value.name).toBe('Domain Users');
    expect(!items[2]!.ok && items[2]!.error.status).toBe('NO_SUCH_GROUP');
  });
});
