import { readFileSync } from 'node:fs';
import { loadRules } from './load';
import { lockKeysOf, UnknownConnectorError } from './session';
import { DEFAULT_RULES_FILE, defaultRules, mailbox, ntUser, sid, sidB64, World } from './testing';

/** Default rules with a patch applied to the YAML text (for rule kinds the defaults do not use). */
function rulesWith(patch: (yaml: string) => string) {
  return loadRules(patch(readFileSync(DEFAULT_RULES_FILE, 'utf8')), 'patched.yaml');
}

describe('seed scenario (default rules)', () => {
  let w: World;
  beforeEach(() => {
    w = new World(defaultRules());
  });

  it('projects a mailbox to a person with its SID in string form, indexed, and exports nothing back (loop prevention)', async () => {
    const out = await w.when(mailbox('alice', 1001));
    const [person] = w.live('person');
    expect(out.mv).toHaveLength(1);
    expect(out.mv[0]!.event).toMatchObject({ change: 'projected', version: 1, reason: 'projection', objectType: 'person', rulesVersion: w.rules.version });
    expect(person!.connectors).toEqual([{ connector: 'exchange', anchor: 'mbx-alice', dn: 'cn=alice,cn=Recipients,ou=SiteA,o=Contoso', state: 'connected' }]);
    expect(out.mv[0]!.event!.attributes['sid']).toEqual([sid(1001)]);
    expect(out.mv[0]!.event!.lineage.find((l) => l.attribute === 'sid')).toMatchObject({ connector: 'exchange', anchor: 'mbx-alice', flow: 'exchange/mailbox/sid' });
    expect(out.exports).toEqual([]);
    expect(w.cs('exchange', 'mbx-alice')).toMatchObject({ state: 'normal', mvObjectId: person!.id });
  });

  it('projects custom recipients to contact and distribution lists to group with members resolved through the metaverse', async () => {
    await w.when(mailbox('alice', 1001));
    await w.when({ connector: 'exchange', anchor: 'ext-bob', objectType: 'customRecipient', attributes: { uid: ['bob'], 'Target-Address': ['SMTP:bob@example.net'] } });
    const out = await w.when({ connector: 'exchange', anchor: 'dl-it', objectType: 'distributionList', attributes: { uid: ['All-IT'], member: [{ ref: 'mbx-alice' }, { ref: 'ext-bob' }, { ref: 'not-imported' }] } });
    const alice = w.live('person')[0]!;
    const bob = w.live('contact')[0]!;
    const group = out.mv.find((c) => c.mv.objectType === 'group')!.event!;
    expect(group.attributes['member']).toEqual([{ ref: alice.id }, { ref: bob.id }]);
  });

  it('resolves a distribution list member that arrives after the list, once the member joins the metaverse', async () => {
    await w.when({ connector: 'exchange', anchor: 'dl-it', objectType: 'distributionList', attributes: { uid: ['All-IT'], member: [{ ref: 'mbx-late' }] } });
    expect(w.live('group')[0]!.contributions['member']).toBeUndefined();
    const out = await w.when(mailbox('late', 1009));
    const person = w.live('person')[0]!;
    expect(out.mv.find((c) => c.mv.objectType === 'group')!.event!.attributes['member']).toEqual([{ ref: person.id }]);
  });

  it('keeps an NT4 user that joins nothing as a disconnector, with no metaverse event', async () => {
    const out = await w.when(ntUser('svc-backup', 3001));
    expect(out.mv).toEqual([]);
    expect(out.counters).toMatchObject({ disconnectorRemains: 1 });
    expect(w.cs('nt4-contoso', sid(3001))).toMatchObject({ state: 'disconnector', mvObjectId: null });
  });

  it('joins an NT4 user to the person whose sid equals its objectSid and flows DOMAIN\\accountName to ntAccount', async () => {
    await w.when(mailbox('alice', 1001));
    const out = await w.when(ntUser('alice', 1001));
    const person = w.live('person');
    expect(person).toHaveLength(1);
    expect(out.mv[0]!.event).toMatchObject({ change: 'updated', version: 2, reason: 'join' });
    expect(out.mv[0]!.event!.attributes['ntAccount']).toEqual(['CONTOSO\\alice']);
    expect(out.mv[0]!.event!.connectors.map((c) => c.connector)).toEqual(['exchange', 'nt4-contoso']);
    // sid: Exchange ranks first, the NT4 value is a lower-precedence contribution.
    expect(out.mv[0]!.event!.lineage.find((l) => l.attribute === 'sid')!.connector).toBe('exchange');
    expect(w.cs('nt4-contoso', sid(1001))).toMatchObject({ state: 'normal', mvObjectId: person[0]!.id });
  });

  it('re-evaluates a disconnector when a metaverse object gains the indexed value it joins on (NT4 account imported first)', async () => {
    await w.when(ntUser('alice', 1001));
    expect(w.cs('nt4-contoso', sid(1001))!.state).toBe('disconnector');
    const out = await w.when(mailbox('alice', 1001));
    const [person] = w.live('person');
    expect(person!.connectors.map((c) => c.connector).sort()).toEqual(['exchange', 'nt4-contoso']);
    expect(out.mv).toHaveLength(1);
    expect(out.mv[0]!.event).toMatchObject({ change: 'projected', version: 1 });
    expect(out.mv[0]!.event!.attributes['ntAccount']).toEqual(['CONTOSO\\alice']);
  });

  it('reports join-ambiguous instead of guessing, counts retries, and clears the error once the ambiguity is gone', async () => {
    await w.when(mailbox('res1', 1001));
    await w.when(mailbox('res2', 1001)); // two mailboxes with one primary NT account (resource mailboxes)
    const first = await w.when(ntUser('shared', 1001));
    expect(first.errors).toEqual([expect.objectContaining({ type: 'join-ambiguous', connector: 'nt4-contoso', anchor: sid(1001) })]);
    expect(w.cs('nt4-contoso', sid(1001))!.state).toBe('disconnector');
    expect(w.store.errors.get(`nt4-contoso\u0000${sid(1001)}`)).toMatchObject({ retryCount: 0 });
    await w.when({ ...ntUser('shared', 1001), change: 'update' });
    expect(w.store.errors.get(`nt4-contoso\u0000${sid(1001)}`)).toMatchObject({ type: 'join-ambiguous', retryCount: 1 });
    await w.when({ ...mailbox('res2', null), change: 'update' }); // res2 loses the SID
    await w.when({ ...ntUser('shared', 1001), change: 'update' });
    expect(w.store.errors.size).toBe(0);
    expect(w.cs('nt4-contoso', sid(1001))!.state).toBe('normal');
  });

  it('recalls the values of a deleted connector and refills them from lower precedence; the MV object lives while a connector remains', async () => {
    await w.when(mailbox('alice', 1001, { department: ['IT'] }));
    await w.when(ntUser('alice', 1001));
    const out = await w.when({ connector: 'exchange', anchor: 'mbx-alice', change: 'delete' });
    const ev = out.mv[0]!.event!;
    expect(ev).toMatchObject({ change: 'updated', reason: 'recall' });
    expect(ev.attributes['department']).toBeUndefined();
    expect(ev.attributes['sid']).toEqual([sid(1001)]);
    expect(ev.lineage.find((l) => l.attribute === 'sid')!.connector).toBe('nt4-contoso');
    expect(w.cs('exchange', 'mbx-alice')).toBeUndefined();
  });

  it('deletes the person with its last connector (deletion rule last-connector)', async () => {
    await w.when(mailbox('alice', 1001));
    const out = await w.when({ connector: 'exchange', anchor: 'mbx-alice', change: 'delete' });
    expect(out.mv[0]!.event).toMatchObject({ change: 'deleted', version: 2, reason: 'deletion-rule', connectors: [] });
  });

  it('ignores a redelivered or stale CS version', async () => {
    await w.when(mailbox('alice', 1001));
    const again = await w.when({ ...mailbox('alice', 1001), csVersion: 1 });
    expect(again.mv).toEqual([]);
  });

  it('refuses a CS event from an unknown connector', async () => {
    await expect(w.when({ connector: 'ad-fabrikam', anchor: 'x' })).rejects.toThrow(UnknownConnectorError);
    await expect(w.when({ connector: 'ad-fabrikam', anchor: 'x' })).rejects.toThrow(/unknown connector 'ad-fabrikam': the rules define 'exchange', 'nt4-contoso'/);
  });

  it('carries a rename into the connector link', async () => {
    await w.when(mailbox('alice', 1001));
    const out = await w.when({ ...mailbox('alice', 1001), change: 'rename', dn: 'cn=alice2,cn=Recipients,ou=SiteA,o=Contoso' });
    expect(out.mv[0]!.event!.connectors[0]!.dn).toBe('cn=alice2,cn=Recipients,ou=SiteA,o=Contoso');
  });

  describe('provisioning', () => {
    it('gives a mailbox without Assoc-NT-Account an NT4 account, links the account when it comes back, and flows the new SID to Exchange', async () => {
      const out = await w.when(mailbox('carol', null, { cn: ['Carol Jones'] }));
      const person = w.live('person')[0]!;
      expect(out.exports).toEqual([
        expect.objectContaining({
          connector: 'nt4-contoso',
          op: 'add',
          anchor: null,
          dn: 'CONTOSO\\carol',
          partition: 'CONTOSO',
          objectType: 'user',
          mvObjectId: person.id,
          attributes: { accountName: ['carol'], description: ['provisioned by Metaweave from Exchange'], userAccountControl: [513], fullName: ['Carol Jones'] },
        }),
      ]);
      expect(out.counters).toMatchObject({ provisionedAdd: 1 });
      // Another change of the mailbox does not provision a second account while the first is pending.
      const again = await w.when({ ...mailbox('carol', null, { cn: ['Carol Jones'], department: ['IT'] }), change: 'update' });
      expect(again.exports.filter((e) => e.op === 'add')).toEqual([]);

      // The NT4 connector applied the add; its import brings the new account with its SID.
      const back = await w.when({ ...ntUser('carol', 1105), attributes: { objectSid: [sidB64(1105)], accountName: ['carol'], fullName: ['Carol Jones'] } });
      expect(back.mv[0]!.event).toMatchObject({ reason: 'provisioned-join' });
      expect(back.exports[0]!.mvVersion).toBe(back.mv[0]!.event!.version);
      expect(back.mv[0]!.event!.attributes['sid']).toEqual([sid(1105)]);
      expect(back.exports).toEqual([
        expect.objectContaining({ connector: 'exchange', op: 'update', anchor: 'mbx-carol', changes: [{ name: 'Assoc-NT-Account', op: 'replace', values: [sidB64(1105)] }] }),
      ]);
      // Exchange confirms the export in its next import: nothing more to export, nothing provisioned.
      const confirmed = await w.when({ ...mailbox('carol', 1105, { cn: ['Carol Jones'], department: ['IT'] }), change: 'update' });
      expect(confirmed.exports).toEqual([]);
      expect(w.live('person')).toHaveLength(1);
    });

    it('reports a provisioning failure when the DN template names an empty attribute', async () => {
      const rules = rulesWith((y) => y.replace("dn: 'CONTOSO\\{uid}'\n    attributes:\n      accountName", "dn: 'CONTOSO\\{employeeId}'\n    attributes:\n      accountName"));
      w = new World(rules);
      const out = await w.when(mailbox('dave', null));
      expect(out.exports).toEqual([]);
      expect(out.errors).toEqual([expect.objectContaining({ type: 'provisioning-failure', message: expect.stringMatching(/needs metaverse attribute 'employeeId'/) })]);
    });

    it('flows distribution list membership to an NT4 global group by reference, and adds members whose accounts join later', async () => {
      await w.when(mailbox('alice', 1001));
      await w.when(ntUser('alice', 1001));
      await w.when(mailbox('bob', 1002));
      const out = await w.when({ connector: 'exchange', anchor: 'dl-it', objectType: 'distributionList', attributes: { uid: ['All-IT'], member: [{ ref: 'mbx-alice' }, { ref: 'mbx-bob' }] } });
      const add = out.exports.find((e) => e.op === 'add')!;
      expect(add).toMatchObject({ connector: 'nt4-contoso', objectType: 'group', dn: 'CONTOSO\\All-IT', attributes: { name: ['All-IT'], member: [{ ref: sid(1001) }] } });
      const group = w.live('group')[0]!;
      await w.when({ connector: 'nt4-contoso', anchor: sid(5001), partition: 'CONTOSO', objectType: 'group', dn: 'CONTOSO\\All-IT', attributes: { name: ['All-IT'], member: [{ ref: sid(1001) }] } });
      expect(w.cs('nt4-contoso', sid(5001))).toMatchObject({ state: 'normal', mvObjectId: group.id });
      // Bob's NT4 account appears: the group's export flow now includes him.
      const bob = await w.when(ntUser('bob', 1002));
      expect(bob.exports.filter((e) => e.objectType === 'group')).toEqual([expect.objectContaining({ connector: 'nt4-contoso', anchor: sid(5001), op: 'update', changes: [{ name: 'member', op: 'replace', values: [{ ref: sid(1001) }, { ref: sid(1002) }] }] })]);
    });
  });

  it('deletes a group when its authoritative connector deletes it, deprovisioning the other connectors (make them disconnectors)', async () => {
    await w.when({ connector: 'exchange', anchor: 'dl-it', objectType: 'distributionList', attributes: { uid: ['All-IT'] } });
    await w.when({ connector: 'nt4-contoso', anchor: sid(5001), partition: 'CONTOSO', objectType: 'group', dn: 'CONTOSO\\All-IT', attributes: { name: ['All-IT'] } });
    const out = await w.when({ connector: 'exchange', anchor: 'dl-it', change: 'delete' });
    expect(out.mv[0]!.event).toMatchObject({ change: 'deleted', reason: 'deletion-rule' });
    expect(w.cs('nt4-contoso', sid(5001))).toMatchObject({ state: 'disconnector', mvObjectId: null });
    expect(out.exports).toEqual([]);
  });
});

describe('rule kinds beyond the defaults', () => {
  it('deprovisioning "delete" stages a delete export and makes an explicit disconnector', async () => {
    const w = new World(rulesWith((y) => y.replace('nt4-contoso:\n    deprovision: disconnector', 'nt4-contoso:\n    deprovision: delete')));
    await w.when(mailbox('alice', 1001));
    await w.when(ntUser('alice', 1001));
    const out = await w.when({ connector: 'exchange', anchor: 'mbx-alice', change: 'delete' });
    // last-connector: the person still has its NT4 connector and is kept.
    expect(out.mv[0]!.event!.change).toBe('updated');
    const rules = rulesWith((y) => y.replace('nt4-contoso:\n    deprovision: disconnector', 'nt4-contoso:\n    deprovision: delete').replace('person:\n    deletion: last-connector', 'person:\n    deletion: { authoritative: [exchange] }'));
    const v = new World(rules);
    await v.when(mailbox('alice', 1001));
    await v.when(ntUser('alice', 1001));
    const del = await v.when({ connector: 'exchange', anchor: 'mbx-alice', change: 'delete' });
    expect(del.mv[0]!.event!.change).toBe('deleted');
    expect(del.exports).toEqual([expect.objectContaining({ connector: 'nt4-contoso', op: 'delete', anchor: sid(1001), dn: 'CONTOSO\\alice' })]);
    expect(v.cs('nt4-contoso', sid(1001))!.state).toBe('explicit-disconnector');
    // An explicit disconnector is never joined again by the rules.
    await v.when(mailbox('alice2', 1001));
    await v.when({ ...ntUser('alice', 1001), change: 'update', attributes: { ...ntUser('alice', 1001).attributes!, fullName: ['changed'] } });
    expect(v.cs('nt4-contoso', sid(1001))!.state).toBe('explicit-disconnector');
  });

  it('deprovisioning "explicit-disconnector"', async () => {
    const rules = rulesWith((y) => y.replace('nt4-contoso:\n    deprovision: disconnector', 'nt4-contoso:\n    deprovision: explicit-disconnector').replace('person:\n    deletion: last-connector', 'person:\n    deletion: { authoritative: [exchange] }'));
    const w = new World(rules);
    await w.when(mailbox('alice', 1001));
    await w.when(ntUser('alice', 1001));
    const out = await w.when({ connector: 'exchange', anchor: 'mbx-alice', change: 'delete' });
    expect(out.exports).toEqual([]);
    expect(w.cs('nt4-contoso', sid(1001))!.state).toBe('explicit-disconnector');
  });

  it('connector filter: a filtered disconnector never projects; a connector that becomes filtered is disconnected and the deletion rule runs; unfiltered it projects again', async () => {
    const w = new World(rulesWith((y) => y.replace('      mailbox:\n        project: person', "      mailbox:\n        filter:\n          - { attribute: Extension-Attribute-10, op: equals, value: NTDSNoMatch }\n        project: person")));
    const filtered = await w.when(mailbox('res', 1001, { 'Extension-Attribute-10': ['NTDSNoMatch'] }));
    expect(filtered.mv).toEqual([]);
    expect(w.cs('exchange', 'mbx-res')!.state).toBe('filtered');
    await w.when(mailbox('bob', 1002));
    const out = await w.when({ ...mailbox('bob', 1002, { 'Extension-Attribute-10': ['ntdsnomatch'] }), change: 'update' });
    expect(out.mv[0]!.event).toMatchObject({ change: 'deleted' });
    expect(out.counters).toMatchObject({ connectorFiltered: 1 });
    expect(w.cs('exchange', 'mbx-bob')!.state).toBe('filtered');
    const back = await w.when({ ...mailbox('bob', 1002), change: 'update' });
    expect(back.mv[0]!.event).toMatchObject({ change: 'projected' });
  });

  it('equal precedence: the last writer wins', async () => {
    const w = new World(rulesWith((y) => y.replace('ntAccount: { precedence: ranked, order: [nt4-contoso] }', 'ntAccount: { precedence: equal }\n      fullName: { precedence: equal }').replace("          - { mv: sn, from: sn }", "          - { mv: sn, from: sn }\n          - { mv: fullName, from: cn }")));
    await w.when(mailbox('alice', 1001, { cn: ['From Exchange'] }));
    await w.when(ntUser('alice', 1001, { fullName: ['From NT4'] }));
    expect(w.live('person')[0]!.contributions['fullName']).toHaveLength(2);
    const last = w.store.events.at(-1)!;
    expect(last.attributes['fullName']).toEqual(['From NT4']);
    await w.when({ ...mailbox('alice', 1001, { cn: ['Exchange again'] }), change: 'update' });
    expect(w.store.events.at(-1)!.attributes['fullName']).toEqual(['Exchange again']);
  });

  it('import flows: constant, DN component, multi-source transform; export flow with allowNull clears the target', async () => {
    const w = new World(
      rulesWith((y) =>
        y
          .replace('          - { mv: site, from: $partition }', "          - { mv: site, from: $partition }\n          - { mv: kind, constant: employee }\n          - { mv: container, dnComponent: 2 }\n          - { mv: label, from: [uid, mail], transform: concat, args: { separator: ' <' } }")
          .replace('          - { cs: fullName, from: displayName }', '          - { cs: fullName, from: displayName }\n          - { cs: description, from: department, allowNull: true }'),
      ),
    );
    const out = await w.when(mailbox('alice', 1001, { department: ['IT'] }));
    expect(out.mv[0]!.event!.attributes).toMatchObject({ kind: ['employee'], container: ['Recipients'], label: ['alice <alice@contoso.com'] });
    await w.when(ntUser('alice', 1001, { description: ['old'] }));
    expect(w.store.exports.at(-1)).toMatchObject({ connector: 'nt4-contoso', changes: expect.arrayContaining([{ name: 'description', op: 'replace', values: ['IT'] }]) });
    const cleared = await w.when({ ...mailbox('alice', 1001), change: 'update' });
    expect(cleared.exports).toEqual([expect.objectContaining({ changes: [{ name: 'description', op: 'replace', values: [] }] })]);
  });

  it('a join on a multi-valued source is an error (join-object-id-must-be-single-valued)', async () => {
    const w = new World(defaultRules());
    await w.when(mailbox('alice', 1001));
    const out = await w.when(ntUser('odd', 1001, { objectSid: [sidB64(1001), sidB64(1002)] }));
    expect(out.errors).toEqual([expect.objectContaining({ type: 'join-object-id-must-be-single-valued' })]);
  });

  it('a value a transform cannot convert is a flow-failure naming the flow; the rest of the object flows', async () => {
    const w = new World(defaultRules());
    const out = await w.when(mailbox('alice', null, { 'Assoc-NT-Account': [{ b64: 'AAAA' }] }));
    expect(out.errors).toEqual([expect.objectContaining({ type: 'flow-failure', message: expect.stringMatching(/import flow exchange\/mailbox\/sid: not a SID/) })]);
    expect(out.mv[0]!.event!.attributes['mail']).toEqual(['alice@contoso.com']);
  });
});

describe('connector state transitions (domain.md §1.3)', () => {
  let w: World;
  beforeEach(async () => {
    w = new World(defaultRules());
    await w.when(mailbox('alice', 1001));
    await w.when(ntUser('alice', 1001));
  });

  it('normal connector → disconnector (manual) recalls its values; a full synchronization joins it again', async () => {
    await w.run((s) => s.manualDisconnect('nt4-contoso', sid(1001), false));
    expect(w.cs('nt4-contoso', sid(1001))!.state).toBe('disconnector');
    expect(w.store.events.at(-1)!.attributes['ntAccount']).toBeUndefined();
    await w.run((s) => s.resync('nt4-contoso', sid(1001)));
    expect(w.cs('nt4-contoso', sid(1001))!.state).toBe('normal');
  });

  it('normal connector → explicit disconnector (manual): a full synchronization does not join it', async () => {
    await w.run((s) => s.manualDisconnect('nt4-contoso', sid(1001), true));
    await w.run((s) => s.resync('nt4-contoso', sid(1001)));
    expect(w.cs('nt4-contoso', sid(1001))).toMatchObject({ state: 'explicit-disconnector', mvObjectId: null });
  });

  it('disconnector → explicit connector (Joiner) stays joined although the join rule would not match', async () => {
    await w.when(ntUser('other', 4001));
    const person = w.live('person')[0]!;
    await w.run((s) => s.manualDisconnect('nt4-contoso', sid(1001), true));
    await w.run((s) => s.explicitJoin('nt4-contoso', sid(4001), person.id));
    await w.when({ ...ntUser('other', 4001, { fullName: ['x'] }), change: 'update' });
    expect(w.cs('nt4-contoso', sid(4001))).toMatchObject({ state: 'explicit', mvObjectId: person.id });
    expect(w.store.events.at(-1)!.connectors.find((c) => c.connector === 'nt4-contoso')!.state).toBe('explicitly-connected');
  });
});

describe('race safety keys', () => {
  it('a mailbox and an NT4 account of the same person lock the same join-index key; other people do not', () => {
    const rules = defaultRules();
    const image = (c: ReturnType<typeof mailbox>) => ({ connector: c.connector, anchor: c.anchor, objectType: c.objectType!, dn: c.dn!, partition: c.partition!, attributes: c.attributes! });
    const m = lockKeysOf(rules, image(mailbox('alice', 1001)));
    const n = lockKeysOf(rules, image(ntUser('alice', 1001)));
    expect(m).toContain(`sid=s:${sid(1001)}`);
    expect(n).toContain(`sid=s:${sid(1001)}`);
    expect(lockKeysOf(rules, image(ntUser('bob', 1002)))).not.toContain(`sid=s:${sid(1001)}`);
  });
});
