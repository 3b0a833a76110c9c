#!/usr/bin/python3
"""Prove that Samba's own MS-SAMR client binding (python3-samba) talks to the
local NT4 PDC: Connect2, EnumDomains, LookupDomain, OpenDomain, EnumDomainUsers.

Run it with the system interpreter (/usr/bin/python3): python3-samba is a
Debian package and is invisible to a pyenv/venv python on PATH.

usage: /usr/bin/python3 samr-smoke.py --conf CLIENT_CONF [--host 127.0.0.1] [--port 445]
         [--domain CONTOSO] [--user admin] [--password PW] [--expect-sid SID]
Defaults come from the MW_SAMBA_* variables printed by `stack.sh env`.
"""
import argparse
import os
import sys

try:
    from samba import credentials, param
    from samba.dcerpc import lsa, samr, security
    from samba import NTSTATUSError
except ImportError as e:  # pragma: no cover
    sys.exit(f"samr-smoke: cannot import samba ({e}); run with /usr/bin/python3 and install python3-samba")

STATUS_MORE_ENTRIES = 0x00000105


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conf", default=env("MW_SAMBA_CLIENT_CONF"))
    ap.add_argument("--host", default=env("MW_SAMBA_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(env("MW_SAMBA_PORT", "445")))
    ap.add_argument("--domain", default=env("MW_SAMBA_DOMAIN", "CONTOSO"))
    ap.add_argument("--user", default=env("MW_SAMBA_ADMIN_USER", "admin"))
    ap.add_argument("--password", default=env("MW_SAMBA_ADMIN_PASSWORD"))
    ap.add_argument("--expect-sid", default=env("MW_SAMBA_DOMAIN_SID"))
    a = ap.parse_args()
    if not a.conf or not a.password:
        ap.error("--conf and --password are required (or eval \"$(deploy/local/stack.sh env)\")")

    lp = param.LoadParm()
    lp.load(a.conf)
    # the SMB port used by the ncacn_np transport (445 unless overridden)
    lp.set("smb ports", str(a.port))
    creds = credentials.Credentials()
    creds.guess(lp)
    creds.set_username(a.user)
    creds.set_password(a.password)
    creds.set_domain(a.domain)

    conn = samr.samr(f"ncacn_np:{a.host}", lp, creds)
    connect_handle = conn.Connect2(None, security.SEC_FLAG_MAXIMUM_ALLOWED)

    _resume, doms, _count = conn.EnumDomains(connect_handle, 0, 0xFFFFFFFF)
    names = [d.name.string for d in doms.entries]
    dom_name = next(n for n in names if n.lower() != "builtin")
    sid = conn.LookupDomain(connect_handle, lsa.String(dom_name))
    print(f"domains: {names}; domain {dom_name} sid {sid}")
    if a.expect_sid and str(sid) != a.expect_sid:
        print(f"FAIL: expected domain sid {a.expect_sid}", file=sys.stderr)
        return 1

    dom_handle = conn.OpenDomain(connect_handle, security.SEC_FLAG_MAXIMUM_ALLOWED, sid)
    users = []
    resume = 0
    for _ in range(100000):
        try:
            resume, sam, count = conn.EnumDomainUsers(dom_handle, resume, 0, 0xFFFF)
        except NTSTATUSError as e:
            if e.args[0] != STATUS_MORE_ENTRIES:
                raise
            continue
        entries = (sam.entries if sam is not None else None) or []
        users.extend((e.idx, e.name.string) for e in entries)
        if count == 0 or not resume:
            break
    conn.Close(dom_handle)
    conn.Close(connect_handle)

    print(f"users ({len(users)}): " + ", ".join(f"{n}(rid {r})" for r, n in sorted(users)))
    if a.user.lower() not in (n.lower() for _, n in users):
        print(f"FAIL: {a.user} not enumerated", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
