import { ConnectorError, notReimported, type CsImage, type ExportOperation, type ObjectError } from '@metaweave/connector-sdk';
import { ACB, SamrBridge, UF, accountSid, type SamrConnectOptions, type SamrDomain } from '@metaweave/samr';
import { samrStandIn, stackEnv, uniqueSuffix } from '@metaweave/testing';
import { Nt4Domain } from './nt4-domain';

jest.setTimeout(120_000);

/**
 * The NT4 connector against the connector SPI, on the live Samba stand-in: what a full import
 * yields, and export operations applied and confirmed by their read-back, without Kafka or a
 * database in between.
 */
describe('Nt4Domain (connector SPI, live Samba)', () => {
  const env = stackEnv();
  const connect: SamrConnectOptions = samrStandIn(env);
  const D = connect.domain.toUpperCase();
  const prefix = `k${uniqueSuffix().slice(0, 6)}`;
  const nt4 = new Nt4Domain({ name: 'nt4-spi', connect, batchSize: 7 });
  let bridge: SamrBridge;
  let direct: SamrDomain;

  beforeAll(async () => {
    bridge = await SamrBridge.start();
    direct = await bridge.connect(connect);
  });
  afterAll(async () => {
    for (const g of await direct.listGroups().catch(() => [])) if (g.name.startsWith(prefix)) await direct.deleteGroup(g.rid, { removeMembers: true }).catch(() => undefined);
    for (const u of await direct.enumerateUsers().catch(() => [])) if (u.accountName.startsWith(prefix)) await direct.deleteUser(u.rid).catch(() => undefined);
    await bridge?.close();
    await nt4.dispose();
  });

  const importAll = async () => {
    const images: CsImage[] = [];
    const errors: ObjectError[] = [];
    const result = await nt4.capabilities.fullImport.fullImport(D, { page: async (p) => void images.push(...p), objectError: (e) => void errors.push(e) });
    return { images, errors, result };
  };
  const apply = (op: ExportOperation) => nt4.capabilities.export.apply(D, op);

  it('full import: every user (in pages) and global group, SID anchors, DOMAIN\\name DNs, references between them', async () => {
    const users = [];
    for (let i = 0; i < 10; i++) users.push(await direct.createUser({ accountName: `${prefix}u${i}`, enabled: i % 3 !== 0 }));
    const group = await direct.createGroup({ name: `${prefix}g`, description: 'spi' });
    await direct.addMember(group.rid, users[1]!.rid);
    const { images, errors, result } = await importAll();
    expect(errors).toEqual([]);
    expect(result).toEqual({ watermark: null });
    const mine = images.filter((i) => i.dn.startsWith(`${D}\\${prefix}`));
    expect(mine).toHaveLength(11);
    const u1 = mine.find((i) => i.dn === `${D}\\${prefix}u1`)!;
    expect(u1).toMatchObject({ anchor: accountSid(direct.description.domainSid, users[1]!.rid), partition: D, objectType: 'user' });
    expect(u1.attributes['groups']).toContainEqual({ ref: accountSid(direct.description.domainSid, group.rid) });
    const u0 = mine.find((i) => i.dn === `${D}\\${prefix}u0`)!;
    expect(Number(u0.attributes['userAccountControl']![0]) & UF.ACCOUNTDISABLE).toBe(UF.ACCOUNTDISABLE);
    const g = mine.find((i) => i.objectType === 'group')!;
    expect(g.attributes).toMatchObject({ name: [`${prefix}g`], description: ['spi'], member: [{ ref: u1.anchor }] });
    // anchors are unique across the whole import
    expect(new Set(images.map((i) => i.anchor)).size).toBe(images.length);
  });

  it('export: add, update, delete — each read back so the confirmation finds nothing missing', async () => {
    const add: ExportOperation = { op: 'add', dn: `${D}\\${prefix}x`, objectType: 'user', attributes: { fullName: ['X Person'], userAccountControl: [UF.NORMAL_ACCOUNT | UF.ACCOUNTDISABLE] } };
    const added = await apply(add);
    expect(notReimported(add, added)).toEqual([]);
    const rid = Number(added!.anchor.split('-').pop());
    expect((await direct.getUser(rid)).acb).toBe(ACB.NORMAL | ACB.DISABLED);
    const update: ExportOperation = { op: 'update', anchor: added!.anchor, dn: add.dn, objectType: 'user', changes: [{ name: 'userAccountControl', op: 'replace', values: [UF.NORMAL_ACCOUNT] }] };
    expect(notReimported(update, await apply(update))).toEqual([]);
    expect((await direct.getUser(rid)).acb).toBe(ACB.NORMAL);
    expect(await apply({ op: 'delete', anchor: added!.anchor, dn: add.dn })).toBeNull();
    const { images } = await importAll();
    expect(images.find((i) => i.anchor === added!.anchor)).toBeUndefined();
  });

  it('export refusals are typed ConnectorErrors naming the problem', async () => {
    const tooLong = await apply({ op: 'add', dn: `${D}\\${prefix}-twenty-one-chars`, objectType: 'user', attributes: {} }).catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(ConnectorError);
    expect(tooLong).toMatchObject({ type: 'invalid-value' });
    const wrongType = await apply({ op: 'add', dn: `${D}\\${prefix}c`, objectType: 'computer', attributes: {} }).catch((e: unknown) => e);
    expect(wrongType).toMatchObject({ type: 'invalid-value', message: expect.stringMatching(/not in the NT4 schema/) });
    const readOnly = await apply({ op: 'add', dn: `${D}\\${prefix}r`, objectType: 'user', attributes: { color: ['blue'] } }).catch((e: unknown) => e);
    expect(readOnly).toMatchObject({ type: 'invalid-value', message: expect.stringMatching(/color is not an attribute/) });
    const foreign = await apply({ op: 'delete', anchor: 'S-1-5-21-1-2-3-1000', dn: `${D}\\x` }).catch((e: unknown) => e);
    expect(foreign).toMatchObject({ type: 'unknown-object' });
  });
});
