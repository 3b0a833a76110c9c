// The bulk generator against the live Samba (server side, same machine), and the read rate of
// the bridge over what it made. MW_SAMR_BENCH_USERS=10000 turns it into the benchmark.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { samrStandIn, stackEnv, uniqueSuffix } from '@metaweave/testing';
import { ACB } from './account-control';
import { SamrBridge } from './bridge';
import type { SamrDomain } from './bridge';
import { isSamrError } from './errors';
import { cleanupGeneratedDomain, generateDomain } from './generator';
import { userToCsImage } from './nt4-schema';
import type { SamrUser } from './protocol';
import { sidFromString } from './sid';

const env = stackEnv();
const server = { serverConf: env['MW_SAMBA_SERVER_CONF']!, nssEnv: env['MW_SAMBA_NSS_ENV']! };
const users = Number(process.env['MW_SAMR_BENCH_USERS'] ?? 1000);
const prefixes = [`sq${uniqueSuffix().slice(0, 5)}`, `sr${uniqueSuffix().slice(0, 5)}`];
const dir = mkdtempSync(join(tmpdir(), 'samr-gen-'));
let bridge: SamrBridge;
let domain: SamrDomain;

jest.setTimeout(Math.max(120_000, users * 60));

beforeAll(async () => {
  bridge = await SamrBridge.start();
  domain = await bridge.connect(samrStandIn(env));
});

afterAll(async () => {
  for (const prefix of prefixes) await cleanupGeneratedDomain({ ...server, prefix }).catch(() => undefined);
  if (domain) for (const u of await domain.enumerateUsers()) if (u.accountName.startsWith(prefixes[1]!)) await domain.deleteUser(u.rid).catch(() => undefined);
  await bridge?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bulk generator (live Samba, server side)', () => {
  it(`loads ${users} users and ${Math.max(1, Math.floor(users / 100))} groups, readable through SAMR, and removes them again`, async () => {
    const prefix = prefixes[0]!;
    const groups = Math.max(1, Math.floor(users / 100));
    const gen = await generateDomain({ ...server, prefix, users, groups, membersPerGroup: 20, passwordTemplate: `Gen-{i}-${prefix}!`, disabledEvery: 10 });
    expect(gen).toMatchObject({ users, groups, domainSid: env['MW_SAMBA_DOMAIN_SID'] });

    // read it all back the way a full import does: enumerate (fresh), then detail in batches
    const t0 = performance.now();
    const listed = (await domain.enumerateUsers()).filter((u) => u.accountName.startsWith(prefix));
    const t1 = performance.now();
    const read: SamrUser[] = [];
    for (let i = 0; i < listed.length; i += 500) {
      for (const item of await domain.getUsers(listed.slice(i, i + 500).map((u) => u.rid))) {
        if (!item.ok) throw item.error;
        read.push(item.value);
      }
    }
    const t2 = performance.now();
    const raw = await domain.benchRead(listed.map((u) => u.rid));
    const t3 = performance.now();
    const displayed = (await domain.listUsers()).filter((u) => u.accountName.startsWith(prefix));
    const t4 = performance.now();
    expect(displayed).toHaveLength(users);
    expect(listed).toHaveLength(users);
    expect(read).toHaveLength(users);

    const byName = new Map(read.map((u) => [u.accountName, u]));
    const u7 = byName.get(`${prefix}u${String(7).padStart(5, '0')}`)!;
    expect(u7).toMatchObject({ fullName: 'Generated User 7', homeDrive: 'H:', scriptPath: 'logon.bat', primaryGroupId: 513 });
    expect(byName.get(`${prefix}u${String(9).padStart(5, '0')}`)!.acb).toBe(ACB.NORMAL | ACB.DISABLED);
    expect(read.filter((u) => u.acb & ACB.DISABLED)).toHaveLength(Math.floor(users / 10));
    // group 0 holds users 0..19
    const g0 = (await domain.lookupNames([`${prefix}g00000`]))[0]!;
    expect(g0.type).toBe('group');
    const group = await domain.getGroup(g0.rid!);
    expect(group.members).toHaveLength(Math.min(20, users));
    expect(u7.groups.map((g) => g.rid)).toContain(g0.rid);
    expect(await domain.verifyLogon(u7.accountName, `Gen-7-${prefix}!`)).toMatchObject({ ok: true });

    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
    console.log(
      `generator: ${users} users + ${groups} groups in ${gen.seconds.total} s (${gen.usersPerSecond} users/s; passdb ${gen.seconds.passdbUsers} s, ` +
        `unix files ${gen.seconds.unixFiles} s); bridge read: enumerateUsers ${Math.round(t1 - t0)} ms, getUsers ${perSecond(users, t2 - t1)} users/s, ` +
        `enumerate+detail ${perSecond(users, t2 - t0)} users/s; raw library loop in the bridge ${raw.usersPerSecond} users/s; ` +
        `listUsers (QueryDisplayInfo pages) ${Math.round(t4 - t3)} ms`,
    );

    const t5 = performance.now();
    const removed = await cleanupGeneratedDomain({ ...server, prefix });
    console.log(`generator cleanup: ${users} users in ${Math.round(performance.now() - t5)} ms`);
    expect(removed).toMatchObject({ usersRemoved: users, groupsRemoved: groups, unixUsersRemoved: users, unixGroupsRemoved: groups });
    const gone = await domain.getUsers([u7.rid]);
    expect(!gone[0]!.ok && isSamrError(gone[0]!.error, 'NO_SUCH_USER')).toBe(true);
    expect((await domain.enumerateUsers()).filter((u) => u.accountName.startsWith(prefix))).toEqual([]);
  });

  it('chooses RIDs so SIDs line up with Exchange Assoc-NT-Account values, and keeps CreateUser2 clear of them', async () => {
    const prefix = prefixes[1]!;
    const highest = Math.max(...(await domain.enumerateUsers()).map((u) => u.rid), ...(await domain.listGroups()).map((g) => g.rid));
    const ridBase = highest + 100;
    const manifest = join(dir, 'manifest.json');
    const gen = await generateDomain({ ...server, prefix, users: 5, groups: 1, membersPerGroup: 5, ridBase, manifest });
    expect(gen.userRids).toEqual([ridBase, ridBase + 4]);
    expect(gen.groupRids).toEqual([ridBase + 5, ridBase + 5]);
    expect(gen.ridCounterBumped).toBeGreaterThan(0);

    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { users: { accountName: string; rid: number; sid: string }[] };
    expect(m.users[2]).toEqual({ accountName: `${prefix}u00002`, rid: ridBase + 2, sid: `${env['MW_SAMBA_DOMAIN_SID']}-${ridBase + 2}` });
    const u2 = await domain.getUser(ridBase + 2);
    expect(u2.accountName).toBe(`${prefix}u00002`);
    const image = userToCsImage(u2, { domain: domain.name, domainSid: domain.domainSid });
    // what an Exchange generator writes into Assoc-NT-Account for this mailbox
    expect(image.attributes['objectSid']).toEqual([{ b64: sidFromString(m.users[2]!.sid).toString('base64') }]);

    // the RID counter was moved past the chosen range: the next SAMR create does not collide
    const next = await domain.createUser({ accountName: `${prefix}next` });
    expect(next.rid).toBeGreaterThan(ridBase + 5);
    await domain.deleteUser(next.rid);
  });

  it('refuses to reuse names that exist, and prefixes that could match someone else', async () => {
    await expect(generateDomain({ ...server, prefix: 'ad', users: 1 })).rejects.toThrow(/prefix must match/);
  });
});
