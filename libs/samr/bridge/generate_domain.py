#!/usr/bin/python3
"""Bulk-load users and global groups into a running Samba classic PDC (tdbsam), server side.

One SAMR CreateUser2 costs 13-22 ms on the stand-in, most of it the `add user script` rewriting
the nss_wrapper passwd file and nss_wrapper re-parsing it (infra.md B.5), and it grows with the
domain. This generator instead writes the Unix side once (the private passwd/group files served
by nss_wrapper, replaced atomically under the same flock the account scripts use) and then adds
the SAM accounts straight into the passdb through Samba's own passdb bindings (samba.samba3.passdb,
with the server's smb.conf), no Samba restart. Each passdb write is a tdb transaction whose fsync
(~2 ms here) is most of its cost; this process sets TDB_NO_FSYNC for its own writes (`--fsync`
keeps it): a crash of the machine mid-load can lose generated accounts, nothing else. Group membership of a tdbsam
domain group IS the Unix group's member list, so it is written with the group file.

RIDs: allocated from the passdb's RID counter, or chosen (`--rid-base R`: user i gets RID R+i) so
that SIDs line up with an Exchange generator's Assoc-NT-Account values; the counter is then moved
past them, so later CreateUser2 calls never collide. Everything it adds carries `--prefix` (Unix
and SAM names), and `cleanup --prefix` removes exactly that.

usage:
  /usr/bin/python3 generate_domain.py generate --prefix PFX --users N [--groups G] [--members-per-group M]
        [--rid-base R] [--password-template 'Pw-{i}!x'] [--disabled-every K] [--manifest FILE]
  /usr/bin/python3 generate_domain.py cleanup --prefix PFX
options for both: [--server-conf SMB_CONF] [--nss-env ENV_SH]   (defaults: $MW_SAMBA_SERVER_CONF, $MW_SAMBA_NSS_ENV)

Prints one JSON object (the summary) on stdout; progress on stderr. Runs as root on the server.
"""
import argparse
import fcntl
import json
import os
import re
import sys
import time

UID_LOW, UID_HIGH = 400000, 999999     # below the stand-in idmap range (1000000-); account scripts use 20000-65533
# uid/gid = UID_LOW + RID: Samba caches uid/gid <-> SID mappings (gencache), so an id must never
# come back with another SID. RIDs are unique (the counter never goes back), and a RID chosen
# again with --rid-base means the same SID again.
DOMAIN_USERS_RID, DOMAIN_USERS_GID = 513, None
PREFIX_RE = re.compile(r'^[a-z][a-z0-9]{2,11}$')


def log(msg):
    sys.stderr.write('generate_domain: %s\n' % msg)
    sys.stderr.flush()


def read_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'^\s*export\s+([A-Z_][A-Z0-9_]*)=(.*)$', line.strip())
            if m:
                v = m.group(2).strip()
                if len(v) >= 2 and v[0] == v[-1] and v[0] in '\'"':
                    v = v[1:-1]
                env[m.group(1)] = v
    return env


def ensure_nss_wrapper(nss_env):
    """Samba's passdb code resolves Unix accounts: run under the same nss_wrapper as the server."""
    env = read_env_file(nss_env)
    missing = [k for k in ('NSS_WRAPPER_PASSWD', 'NSS_WRAPPER_GROUP') if k not in env]
    if missing:
        sys.exit('generate_domain: %s does not export %s' % (nss_env, ', '.join(missing)))
    if os.environ.get('NSS_WRAPPER_PASSWD') != env['NSS_WRAPPER_PASSWD'] or 'LD_PRELOAD' not in os.environ:
        new_env = dict(os.environ)
        new_env.update(env)
        os.execve(sys.executable, [sys.executable] + sys.argv, new_env)
    return env['NSS_WRAPPER_PASSWD'], env['NSS_WRAPPER_GROUP']


class UnixFiles:
    """The nss_wrapper passwd/group files, edited under the account scripts' flock and always
    replaced by rename (nss_wrapper reloads on a new inode; in-place edits get lost)."""

    def __init__(self, passwd, group):
        self.passwd, self.group = passwd, group
        self.lock_path = os.path.join(os.path.dirname(passwd), '.lock')

    def __enter__(self):
        self.fd = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)

    @staticmethod
    def read(path):
        with open(path) as f:
            return [l.rstrip('\n') for l in f if l.strip()]

    @staticmethod
    def replace(path, lines):
        tmp = '%s.tmp.%d' % (path, os.getpid())
        st = os.stat(path)
        with open(tmp, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.chmod(tmp, st.st_mode & 0o7777)
        os.rename(tmp, path)


def open_passdb(server_conf):
    from samba.samba3 import param as s3param, passdb
    lp = s3param.get_context()
    lp.load(server_conf)
    passdb.set_secrets_dir(lp.get('private dir'))
    backend = lp.get('passdb backend')
    if not backend.startswith('tdbsam'):
        sys.exit('generate_domain: passdb backend %r is not tdbsam' % backend)
    return passdb, passdb.PDB(backend), str(passdb.get_global_sam_sid())


def generate(a, passwd_path, group_path):
    from samba import crypto
    from samba.dcerpc import samr, security, lsa
    if a.users < 0 or a.groups < 0:
        sys.exit('generate_domain: counts must be >= 0')
    width = max(5, len(str(max(a.users, a.groups, 1) - 1)))
    if len(a.prefix) + 1 + width > 20:
        sys.exit('generate_domain: prefix %r + %d digits exceeds the 20-character NT4 limit' % (a.prefix, width))
    t0 = time.monotonic()
    passdb, pdb, dom = open_passdb(a.server_conf)
    existing_users = pdb.search_users(0)
    names = {u['account_name'].lower() for u in existing_users}
    rids = {u['rid'] for u in existing_users}
    gmaps = pdb.enum_group_mapping()
    for g in gmaps:
        names.add(g.nt_name.lower())
        sid = str(g.sid)
        if sid.startswith(dom + '-'):
            rids.add(int(sid.rsplit('-', 1)[1]))
    domain_users = next((g for g in gmaps if str(g.sid) == '%s-%d' % (dom, DOMAIN_USERS_RID)), None)
    if domain_users is None:
        sys.exit('generate_domain: "Domain Users" (RID 513) has no group mapping')

    user_names = ['%su%0*d' % (a.prefix, width, i) for i in range(a.users)]
    group_names = ['%sg%0*d' % (a.prefix, width, j) for j in range(a.groups)]
    clash = [n for n in user_names + group_names if n in names]
    if clash:
        sys.exit('generate_domain: %d names exist already (e.g. %s): clean up prefix %s first' % (len(clash), clash[0], a.prefix))

    # RIDs: chosen (rid-base) or from the passdb's own counter
    if a.rid_base is not None:
        user_rids = [a.rid_base + i for i in range(a.users)]
        group_rids = [a.rid_base + a.users + j for j in range(a.groups)]
        taken = [r for r in user_rids + group_rids if r in rids]
        if taken:
            sys.exit('generate_domain: RID %d (and %d more) already in use' % (taken[0], len(taken) - 1))
    else:
        fresh = []
        while len(fresh) < a.users + a.groups:
            r = pdb.new_rid()
            if r not in rids:
                fresh.append(r)
        user_rids, group_rids = fresh[:a.users], fresh[a.users:]

    # group membership: member j*M .. j*M+M-1 (mod users) of group j
    members = {j: [] for j in range(a.groups)}
    if a.users:
        for j in range(a.groups):
            for k in range(a.members_per_group):
                members[j].append(user_names[(j * a.members_per_group + k) % a.users])
    memberships = sum(len(set(m)) for m in members.values())

    # 1. Unix side, one atomic replace of each file
    t1 = time.monotonic()
    with UnixFiles(passwd_path, group_path) as uf:
        pw = uf.read(passwd_path)
        gr = uf.read(group_path)
        if max(user_rids + group_rids, default=0) > UID_HIGH - UID_LOW:
            sys.exit('generate_domain: RIDs above %d do not fit the uid/gid range %d-%d' % (UID_HIGH - UID_LOW, UID_LOW, UID_HIGH))
        uids = [UID_LOW + r for r in user_rids]
        gids = [UID_LOW + r for r in group_rids]
        used_uids = {int(l.split(':')[2]) for l in pw if l.count(':') >= 3 and l.split(':')[2].isdigit()}
        used_gids = {int(l.split(':')[2]) for l in gr if l.count(':') >= 3 and l.split(':')[2].isdigit()}
        if used_uids.intersection(uids) or used_gids.intersection(gids):
            sys.exit('generate_domain: uids/gids %d+RID are taken in the nss_wrapper files' % UID_LOW)
        pw += ['%s:x:%d:%d::/nonexistent:/usr/sbin/nologin' % (n, uids[i], domain_users.gid) for i, n in enumerate(user_names)]
        gr += ['%s:x:%d:%s' % (n, gids[j], ','.join(sorted(set(members[j])))) for j, n in enumerate(group_names)]
        uf.replace(passwd_path, pw)
        uf.replace(group_path, gr)
    t_unix = time.monotonic() - t1

    # 2. SAM accounts
    t2 = time.monotonic()
    now = int(time.time())
    group_sid = security.dom_sid('%s-%d' % (dom, DOMAIN_USERS_RID))
    for i, (name, rid) in enumerate(zip(user_names, user_rids)):
        s = passdb.Samu()
        s.username = name
        s.user_sid = security.dom_sid('%s-%d' % (dom, rid))
        s.group_sid = group_sid
        disabled = a.disabled_every and (i % a.disabled_every == a.disabled_every - 1)
        s.acct_ctrl = samr.ACB_NORMAL | (samr.ACB_DISABLED if disabled else 0)
        s.full_name = 'Generated User %d' % i
        s.acct_desc = 'metaweave generator %s' % a.prefix
        s.home_dir = '\\\\fs1\\home\\%s' % name
        s.dir_drive = 'H:'
        s.logon_script = 'logon.bat'
        s.profile_path = '\\\\fs1\\profiles\\%s' % name
        if a.password_template:
            pw_text = a.password_template.replace('{i}', str(i)).replace('{rid}', str(rid)).replace('{name}', name)
        else:
            pw_text = os.urandom(12).hex()
        s.nt_passwd = crypto.md4_hash_blob(pw_text.encode('utf-16-le'))
        s.pass_last_set_time = now
        s.pass_can_change_time = now
        pdb.add_sam_account(s)
        if (i + 1) % 10000 == 0:
            log('%d users (%.0f/s)' % (i + 1, (i + 1) / (time.monotonic() - t2)))
    t_users = time.monotonic() - t2

    t3 = time.monotonic()
    for j, (name, rid) in enumerate(zip(group_names, group_rids)):
        g = passdb.Groupmap()
        g.gid = gids[j]
        g.sid = security.dom_sid('%s-%d' % (dom, rid))
        g.sid_name_use = lsa.SID_NAME_DOM_GRP
        g.nt_name = name
        g.comment = 'metaweave generator %s' % a.prefix
        pdb.add_group_mapping_entry(g)
    t_groups = time.monotonic() - t3

    # 3. keep CreateUser2 away from chosen RIDs: move the counter past them
    bumped = 0
    if a.rid_base is not None and (user_rids or group_rids):
        top = max(user_rids + group_rids)
        while bumped < 2_000_000:
            bumped += 1
            if pdb.new_rid() > top:
                break

    if a.manifest:
        with open(a.manifest, 'w') as f:
            json.dump({'domainSid': dom,
                       'users': [{'accountName': n, 'rid': r, 'sid': '%s-%d' % (dom, r)} for n, r in zip(user_names, user_rids)],
                       'groups': [{'name': n, 'rid': r, 'sid': '%s-%d' % (dom, r), 'members': sorted(set(members[j]))}
                                  for j, (n, r) in enumerate(zip(group_names, group_rids))]}, f)
    total = time.monotonic() - t0
    return {
        'prefix': a.prefix, 'domainSid': dom, 'users': a.users, 'groups': a.groups, 'memberships': memberships,
        'userRids': [user_rids[0], user_rids[-1]] if user_rids else [], 'groupRids': [group_rids[0], group_rids[-1]] if group_rids else [],
        'ridCounterBumped': bumped,
        'seconds': {'unixFiles': round(t_unix, 3), 'passdbUsers': round(t_users, 3), 'passdbGroups': round(t_groups, 3), 'total': round(total, 3)},
        'usersPerSecond': round(a.users / total, 1) if total > 0 and a.users else None,
    }


def cleanup(a, passwd_path, group_path):
    t0 = time.monotonic()
    passdb, pdb, dom = open_passdb(a.server_conf)
    mine = lambda n: n.lower().startswith(a.prefix)
    users = [u for u in pdb.search_users(0) if mine(u['account_name'])]
    groups = [g for g in pdb.enum_group_mapping() if mine(g.nt_name)]
    for u in users:
        try:
            pdb.delete_sam_account(pdb.getsampwnam(u['account_name']))
        except Exception as e:  # vanished meanwhile
            log('user %s: %s' % (u['account_name'], e))
    for g in groups:
        pdb.delete_group_mapping_entry(g.sid)
    with UnixFiles(passwd_path, group_path) as uf:
        pw = uf.read(passwd_path)
        gr = uf.read(group_path)
        pw2 = [l for l in pw if not mine(l.split(':', 1)[0])]
        gr2 = []
        for l in gr:
            f = l.split(':')
            if mine(f[0]):
                continue
            if len(f) >= 4 and f[3]:
                f[3] = ','.join(m for m in f[3].split(',') if not mine(m))
            gr2.append(':'.join(f))
        if pw2 != pw:
            uf.replace(passwd_path, pw2)
        if gr2 != gr:
            uf.replace(group_path, gr2)
    total = time.monotonic() - t0
    return {'prefix': a.prefix, 'usersRemoved': len(users), 'groupsRemoved': len(groups),
            'unixUsersRemoved': len(pw) - len(pw2), 'unixGroupsRemoved': len(gr) - len([l for l in gr2]),
            'seconds': round(total, 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('mode', choices=['generate', 'cleanup'])
    ap.add_argument('--prefix', required=True, help='3-12 chars [a-z][a-z0-9]*; every name starts with it')
    ap.add_argument('--users', type=int, default=0)
    ap.add_argument('--groups', type=int, default=0)
    ap.add_argument('--members-per-group', type=int, default=10)
    ap.add_argument('--rid-base', type=int)
    ap.add_argument('--password-template', help="e.g. 'Pw-{i}!x' ({i}, {rid}, {name}); default: random, unknown")
    ap.add_argument('--disabled-every', type=int, default=0, help='every K-th user is disabled')
    ap.add_argument('--manifest', help='write {domainSid, users:[{accountName,rid,sid}], groups:[...]} here')
    ap.add_argument('--fsync', action='store_true',
                    help="keep tdb's fsync per transaction (about 2 ms each); default: TDB_NO_FSYNC for this process")
    ap.add_argument('--server-conf', default=os.environ.get('MW_SAMBA_SERVER_CONF'))
    ap.add_argument('--nss-env', default=os.environ.get('MW_SAMBA_NSS_ENV'))
    a = ap.parse_args()
    if not PREFIX_RE.match(a.prefix):
        ap.error('--prefix must match %s' % PREFIX_RE.pattern)
    if not a.server_conf or not a.nss_env:
        ap.error('--server-conf and --nss-env are required (or eval "$(deploy/local/stack.sh env)")')
    passwd_path, group_path = ensure_nss_wrapper(a.nss_env)
    if not a.fsync:
        # tdb reads this at open time, for this process only: Samba's own writes keep their fsync
        os.environ['TDB_NO_FSYNC'] = '1'
    out = generate(a, passwd_path, group_path) if a.mode == 'generate' else cleanup(a, passwd_path, group_path)
    sys.stdout.write(json.dumps(out) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
