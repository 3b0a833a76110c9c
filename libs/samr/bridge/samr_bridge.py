#!/usr/bin/python3
"""Metaweave SAMR bridge: MS-SAMR through Samba's own client library (python3-samba).

A long-lived process driven over stdin/stdout, one JSON object per line (UTF-8, newline framed):

  bridge -> {"hello": {"protocol": 1, "samba": "4.17.12-Debian", "pid": 123, "python": "3.11.2"}}
  client -> {"id": 7, "op": "getUser", "args": {"domain": "CONTOSO", "rid": 1001}}
  bridge -> {"id": 7, "ok": true, "result": {...}}
          | {"id": 7, "ok": false, "error": {"status": "NT_STATUS_NO_SUCH_USER", "code": 3221225572,
                                              "message": "...", "retriable": false}}

Requests are processed one at a time, in arrival order. The bridge keeps ONE authenticated ncacn_np
SAMR connection (plus the connect and domain handles) per connected domain and reconnects when it
breaks: reads are retried once on the new connection, writes fail with a retriable status (the
caller decides; a write may or may not have reached the server).

Secrets: passwords arrive only inside request args (`password`, `oldPassword`, `newPassword`). They
are never logged, never echoed, and every error message is scrubbed of every password the bridge
knows before it is written. Logs go to stderr only; stdout carries nothing but protocol lines
(stray library output is redirected to stderr at start-up).

Run with the system interpreter: /usr/bin/python3 samr_bridge.py  (python3-samba is a Debian
package, invisible to a pyenv/venv python).
"""
import base64
import hashlib
import errno
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import time
import traceback

PROTOCOL = 1
MAX_ACCOUNT_NAME = 20          # NT 4.0 SAM account names (UNLEN for LAN Manager compatibility)
MAX_GROUP_NAME = 256           # GNLEN
MAX_PASSWORD_CHARS = 256       # 512 bytes of UTF-16LE in SAMPR_ENCRYPTED_USER_PASSWORD
ILLEGAL_NAME_CHARS = set('"/\\[]:;|=,+*?<>')
SECRET_ARGS = ('password', 'oldPassword', 'newPassword')
ROLES = {0: 'standalone', 1: 'member', 2: 'bdc', 3: 'pdc'}
# unused high ACB bits: an EnumDomainUsers mask nobody else sends (see op_enumerateUsers)
ENUM_MASK_BITS = (0x40000000, 0x20000000, 0x10000000, 0x08000000)
# Samba serves QueryDisplayInfo (and the level-2 user/group counts) from a per-worker snapshot that
# lives until it has been idle this long (source3/rpc_server/samr/srv_samr_nt.c, DISP_INFO_CACHE_TIMEOUT).
SAMBA_DISPINFO_IDLE_SECONDS = 10

_proto_out = None


def log(message):
    sys.stderr.write('samr-bridge[%d]: %s\n' % (os.getpid(), message))
    sys.stderr.flush()


def write(obj):
    data = (json.dumps(obj, separators=(',', ':')) + '\n').encode('ascii')
    _proto_out.write(data)
    _proto_out.flush()


# --- errors -------------------------------------------------------------------------------------

class BridgeError(Exception):
    """An error response. `status` is an NT_STATUS_* name, `code` its 32-bit value."""

    def __init__(self, status, message, retriable=False, code=None, **extra):
        super().__init__(message)
        self.status = status
        self.code = code if code is not None else STATUS_CODES.get(status, 0xC0000001)
        self.message = message
        self.retriable = retriable
        self.extra = extra

    def to_json(self, secrets):
        out = {
            'status': self.status,
            'code': self.code,
            'message': scrub(self.message, secrets),
            'retriable': bool(self.retriable),
        }
        for k, v in self.extra.items():
            out[k] = v
        return out


def scrub(text, secrets):
    text = str(text)
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, '***')
    return text


STATUS_CODES = {}   # NT_STATUS name -> code
STATUS_NAMES = {}   # code -> NT_STATUS name
# The connection is gone (or never came up): reconnect; reads are retried once.
CONNECTION_LOST = set()
# Statuses of a failed connection attempt that say "try again later", not "you are wrong".
UNREACHABLE = set()
# A SetUserInfo2 level the server does not know (password levels fall back 26 -> 24 -> 23).
LEVEL_UNSUPPORTED = set()


def init_status_tables(ntstatus):
    for name in sorted(dir(ntstatus)):
        if name.startswith('NT_STATUS_') or name.startswith('STATUS_'):
            code = getattr(ntstatus, name) & 0xFFFFFFFF
            STATUS_CODES[name] = code
            STATUS_NAMES.setdefault(code, name)
    for name in ('NT_STATUS_CONNECTION_DISCONNECTED', 'NT_STATUS_CONNECTION_RESET', 'NT_STATUS_CONNECTION_ABORTED',
                 'NT_STATUS_PIPE_DISCONNECTED', 'NT_STATUS_PIPE_BROKEN', 'NT_STATUS_PIPE_CLOSING',
                 'NT_STATUS_INVALID_NETWORK_RESPONSE', 'NT_STATUS_UNEXPECTED_NETWORK_ERROR', 'NT_STATUS_NETWORK_NAME_DELETED',
                 'NT_STATUS_IO_TIMEOUT', 'NT_STATUS_END_OF_FILE', 'NT_STATUS_LOCAL_DISCONNECT', 'NT_STATUS_REMOTE_DISCONNECT',
                 'NT_STATUS_RPC_PROTOCOL_ERROR', 'NT_STATUS_RPC_CALL_FAILED', 'NT_STATUS_INVALID_HANDLE'):
        if name in STATUS_CODES:
            CONNECTION_LOST.add(STATUS_CODES[name])
    UNREACHABLE.update(CONNECTION_LOST)
    for name in ('NT_STATUS_CONNECTION_REFUSED', 'NT_STATUS_HOST_UNREACHABLE', 'NT_STATUS_NETWORK_UNREACHABLE',
                 'NT_STATUS_PORT_UNREACHABLE', 'NT_STATUS_BAD_NETWORK_NAME', 'NT_STATUS_NO_LOGON_SERVERS',
                 'NT_STATUS_ADDRESS_NOT_ASSOCIATED', 'NT_STATUS_UNSUCCESSFUL', 'NT_STATUS_NO_MEMORY'):
        if name in STATUS_CODES:
            UNREACHABLE.add(STATUS_CODES[name])
    UNREACHABLE.discard(STATUS_CODES.get('NT_STATUS_INVALID_HANDLE'))
    for name in ('NT_STATUS_INVALID_INFO_CLASS', 'NT_STATUS_RPC_ENUM_VALUE_OUT_OF_RANGE', 'NT_STATUS_NOT_SUPPORTED',
                 'NT_STATUS_INVALID_LEVEL'):
        if name in STATUS_CODES:
            LEVEL_UNSUPPORTED.add(STATUS_CODES[name])


def nt_code(e):
    return e.args[0] & 0xFFFFFFFF


def from_ntstatus(e, connecting=False, **extra):
    code = nt_code(e)
    name = STATUS_NAMES.get(code, 'NT_STATUS_0x%08X' % code)
    message = e.args[1] if len(e.args) > 1 else name
    retriable = code in (UNREACHABLE if connecting else CONNECTION_LOST)
    return BridgeError(name, str(message), retriable=retriable, code=code, **extra)


def invalid(message):
    return BridgeError('NT_STATUS_INVALID_PARAMETER', message)


# --- argument helpers ---------------------------------------------------------------------------

def req(args, key, kind=None):
    if key not in args or args[key] is None:
        raise invalid('missing argument %r' % key)
    v = args[key]
    if kind is not None and not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise invalid('argument %r has the wrong type' % key)
    return v


def opt(args, key, default=None, kind=None):
    if key not in args or args[key] is None:
        return default
    return req(args, key, kind)


def utf16_len(s):
    return len(s.encode('utf-16-le')) // 2


def check_name(name, limit, what):
    if not isinstance(name, str) or name == '':
        raise BridgeError('NT_STATUS_INVALID_ACCOUNT_NAME', '%s must be a non-empty string' % what)
    if utf16_len(name) > limit:
        raise BridgeError('NT_STATUS_NAME_TOO_LONG', '%s %r has %d characters; NT 4.0 allows at most %d'
                          % (what, name, utf16_len(name), limit))
    bad = sorted(set(c for c in name if c in ILLEGAL_NAME_CHARS or ord(c) < 32))
    if bad or name.strip(' .') == '':
        raise BridgeError('NT_STATUS_INVALID_ACCOUNT_NAME', '%s %r contains characters NT 4.0 does not allow (%s)'
                          % (what, name, ''.join(bad) or 'only dots/spaces'))


def check_password(pw, what='password'):
    if not isinstance(pw, str):
        raise invalid('%s must be a string' % what)
    if utf16_len(pw) > MAX_PASSWORD_CHARS:
        raise invalid('%s is longer than %d characters' % (what, MAX_PASSWORD_CHARS))


def nttime(v, what):
    if isinstance(v, bool):
        raise invalid('%s must be an NT time (decimal string or integer)' % what)
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise invalid('%s must be an NT time (decimal string or integer)' % what)
    if n < 0 or n > 0x7FFFFFFFFFFFFFFF:
        raise invalid('%s is out of range' % what)
    return n


# --- Samba plumbing -----------------------------------------------------------------------------

class Samba:
    """The python3-samba modules, imported once (the import itself can fail: hello says so)."""

    def __init__(self):
        import samba
        from samba import credentials, param, ntstatus, crypto, NTSTATUSError
        from samba.dcerpc import lsa, samr, security
        self.samba, self.credentials, self.param, self.ntstatus = samba, credentials, param, ntstatus
        self.crypto, self.NTSTATUSError, self.lsa, self.samr, self.security = crypto, NTSTATUSError, lsa, samr, security
        self.MAX = security.SEC_FLAG_MAXIMUM_ALLOWED
        init_status_tables(ntstatus)
        s = samr
        # public field name -> (UserInfo21 attribute, fields_present bit, kind)
        self.user_fields = {
            'accountName': ('account_name', s.SAMR_FIELD_ACCOUNT_NAME, 'name'),
            'fullName': ('full_name', s.SAMR_FIELD_FULL_NAME, 'str'),
            'description': ('description', s.SAMR_FIELD_DESCRIPTION, 'str'),
            'comment': ('comment', s.SAMR_FIELD_COMMENT, 'str'),
            'homeDirectory': ('home_directory', s.SAMR_FIELD_HOME_DIRECTORY, 'str'),
            'homeDrive': ('home_drive', s.SAMR_FIELD_HOME_DRIVE, 'str'),
            'scriptPath': ('logon_script', s.SAMR_FIELD_LOGON_SCRIPT, 'str'),
            'profilePath': ('profile_path', s.SAMR_FIELD_PROFILE_PATH, 'str'),
            'workstations': ('workstations', s.SAMR_FIELD_WORKSTATIONS, 'str'),
            'accountExpires': ('acct_expiry', s.SAMR_FIELD_ACCT_EXPIRY, 'nttime'),
            'primaryGroupId': ('primary_gid', s.SAMR_FIELD_PRIMARY_GID, 'u32'),
            'countryCode': ('country_code', s.SAMR_FIELD_COUNTRY_CODE, 'u16'),
            'codePage': ('code_page', s.SAMR_FIELD_CODE_PAGE, 'u16'),
            'logonHours': ('logon_hours', s.SAMR_FIELD_LOGON_HOURS, 'hours'),
            'parameters': ('parameters', s.SAMR_FIELD_PARAMETERS, 'binary'),
            'passwordExpired': ('password_expired', s.SAMR_FIELD_EXPIRED_FLAG, 'bool'),
            'acb': ('acct_flags', s.SAMR_FIELD_ACCT_FLAGS, 'u32'),
        }

    def lstr(self, v):
        return self.lsa.String(v)

    def crypt_password_ex(self, password, key):
        """SAMPR_ENCRYPTED_USER_PASSWORD_NEW (MS-SAMR 2.2.6.22): the 516-byte buffer RC4-encrypted
        with MD5(salt || session key), then the 16-byte clear salt (Samba's encode_rc4_passwd_buffer)."""
        pw = password.encode('utf-16-le')
        buf = os.urandom(512 - len(pw)) + pw + struct.pack('<I', len(pw))
        salt = os.urandom(16)
        rc4_key = hashlib.md5(salt + bytes(key)).digest()
        self.crypto.set_relax_mode()
        try:
            enc = self.samba.arcfour_encrypt(rc4_key, buf)
        finally:
            self.crypto.set_strict_mode()
        out = self.samr.CryptPasswordEx()
        out.data = list(enc) + list(salt)
        return out

    def crypt_password(self, password, key):
        """SAMPR_ENCRYPTED_USER_PASSWORD: random fill, UTF-16LE password at the end of 512 bytes,
        its byte length (uint32 LE), RC4 with `key` (MS-SAMR 2.2.6.21)."""
        pw = password.encode('utf-16-le')
        buf = os.urandom(512 - len(pw)) + pw + struct.pack('<I', len(pw))
        self.crypto.set_relax_mode()   # RC4 is refused in strict mode
        try:
            enc = self.samba.arcfour_encrypt(key, buf)
        finally:
            self.crypto.set_strict_mode()
        out = self.samr.CryptPassword()
        out.data = list(enc)
        return out


def s_(v):
    return (v.string if v is not None else None) or ''


def binary_string_bytes(bs):
    if bs is None or not bs.array:
        return b''
    raw = struct.pack('<%dH' % len(bs.array), *bs.array)
    return raw[:bs.length]


def default_client_conf(tmpdir, workgroup):
    """A private client smb.conf so the library never touches /etc/samba or /run/samba."""
    for d in ('lock', 'state', 'cache', 'private', 'pid', 'ncalrpc'):
        os.makedirs(os.path.join(tmpdir, d), exist_ok=True)
    path = os.path.join(tmpdir, 'client-%s.conf' % workgroup.lower())
    with open(path, 'w') as f:
        f.write('[global]\n    workgroup = %s\n    client min protocol = NT1\n    log level = 0\n' % workgroup)
        for d in ('lock', 'state', 'cache', 'private', 'pid', 'ncalrpc'):
            key = {'lock': 'lock directory', 'state': 'state directory', 'cache': 'cache directory',
                   'private': 'private dir', 'pid': 'pid directory', 'ncalrpc': 'ncalrpc dir'}[d]
            f.write('    %s = %s\n' % (key, os.path.join(tmpdir, d)))
    return path


def tcp_precheck(host, port, timeout):
    """Say UNREACHABLE plainly: the library reports a refused port as NT_STATUS_NO_MEMORY."""
    try:
        s = socket.create_connection((host, port), timeout=timeout)
        s.close()
    except socket.gaierror as e:
        raise BridgeError('NT_STATUS_BAD_NETWORK_NAME', 'cannot resolve %s: %s' % (host, e.strerror), retriable=True)
    except socket.timeout:
        raise BridgeError('NT_STATUS_IO_TIMEOUT', 'no answer from %s:%d within %ss' % (host, port, timeout), retriable=True)
    except ConnectionRefusedError:
        raise BridgeError('NT_STATUS_CONNECTION_REFUSED', 'connection to %s:%d refused' % (host, port), retriable=True)
    except OSError as e:
        status = {errno.EHOSTUNREACH: 'NT_STATUS_HOST_UNREACHABLE',
                  errno.ENETUNREACH: 'NT_STATUS_NETWORK_UNREACHABLE'}.get(e.errno, 'NT_STATUS_CONNECTION_REFUSED')
        raise BridgeError(status, 'cannot reach %s:%d: %s' % (host, port, e.strerror), retriable=True)


# --- one domain ---------------------------------------------------------------------------------

class Session:
    def __init__(self, S, params, tmpdir):
        self.S = S
        self.p = params
        self.tmpdir = tmpdir
        self.conn = None
        self.ch = None
        self.dh = None
        self.sid = None
        self.domain = None
        self.connects = 0
        self.last_dispinfo = None

    # connection ------------------------------------------------------------------
    def _lp(self):
        p, S = self.p, self.S
        lp = S.param.LoadParm()
        lp.load(p['clientConf'] or default_client_conf(self.tmpdir, p['domain']))
        lp.set('smb ports', str(p['port']))
        # capped: from level 3 on, Samba dumps NTLM exchanges (responses an attacker could crack)
        lp.set('log level', str(max(0, min(2, p['debugLevel']))))
        if p['smb1']:
            # a real NT 4.0 speaks SMB1 (NT LM 0.12) only: force it, also for IPC$ (ncacn_np)
            for k in ('client min protocol', 'client max protocol', 'client ipc min protocol', 'client ipc max protocol'):
                lp.set(k, 'NT1')
        if p['ntlmv2'] is False:
            lp.set('client ntlmv2 auth', 'no')
        return lp

    def _creds(self, lp, username, password, domain):
        c = self.S.credentials.Credentials()
        c.guess(lp)
        c.set_username(username)
        c.set_password(password)
        c.set_domain(domain)
        c.set_kerberos_state(self.S.credentials.DONT_USE_KERBEROS)
        return c

    def binding(self):
        opts = self.p['bindingOptions']
        return 'ncacn_np:%s%s' % (self.p['host'], ('[%s]' % ','.join(opts)) if opts else '')

    def open_pipe(self, username, password, domain):
        p, S = self.p, self.S
        tcp_precheck(p['host'], p['port'], p['connectTimeoutSeconds'])
        lp = self._lp()
        try:
            conn = S.samr.samr(self.binding(), lp, self._creds(lp, username, password, domain))
        except S.NTSTATUSError as e:
            raise from_ntstatus(e, connecting=True)
        conn.request_timeout = p['rpcTimeoutSeconds']
        return conn

    def open(self):
        S = self.S
        t0 = time.monotonic()
        conn = self.open_pipe(self.p['username'], self.p['password'], self.p['domain'])
        try:
            try:
                ch = conn.Connect2(None, S.MAX)
            except S.NTSTATUSError as e:
                if nt_code(e) != STATUS_CODES.get('NT_STATUS_RPC_PROCNUM_OUT_OF_RANGE'):
                    raise
                ch = conn.Connect(None, S.MAX)
            try:
                sid = conn.LookupDomain(ch, S.lstr(self.p['domain']))
            except S.NTSTATUSError as e:
                if nt_code(e) == STATUS_CODES['NT_STATUS_NO_SUCH_DOMAIN']:
                    raise BridgeError('NT_STATUS_NO_SUCH_DOMAIN', 'the server does not hold domain %r' % self.p['domain'])
                raise
            dh = conn.OpenDomain(ch, S.MAX, sid)
        except S.NTSTATUSError as e:
            raise from_ntstatus(e, connecting=True)
        self.conn, self.ch, self.dh, self.sid = conn, ch, dh, sid
        self.connects += 1
        self.last_dispinfo = None
        log('connected to %s:%d domain %s (%s) in %.0f ms (connection #%d)'
            % (self.p['host'], self.p['port'], self.p['domain'], sid, (time.monotonic() - t0) * 1000, self.connects))

    def drop(self):
        if self.conn is not None:
            for h in (self.dh, self.ch):
                try:
                    if h is not None:
                        self.conn.Close(h)
                except Exception:
                    pass
        self.conn = self.ch = self.dh = None

    def run(self, fn, idempotent):
        S = self.S
        if self.conn is None:
            self.open()
        try:
            return fn(self)
        except S.NTSTATUSError as e:
            if nt_code(e) not in CONNECTION_LOST:
                raise
            self.drop()
            if not idempotent:
                log('connection lost during a write (%s); will reconnect on the next request' % STATUS_NAMES.get(nt_code(e)))
                raise BridgeError(STATUS_NAMES.get(nt_code(e), 'NT_STATUS_CONNECTION_DISCONNECTED'),
                                  'the connection broke during a write; it may or may not have been applied',
                                  retriable=True, code=nt_code(e))
            log('connection lost (%s); reconnecting and retrying the read once' % STATUS_NAMES.get(nt_code(e)))
            self.open()
            return fn(self)

    # handles ---------------------------------------------------------------------
    def close(self, h):
        try:
            self.conn.Close(h)
        except Exception:
            pass

    def open_user(self, rid):
        return self.conn.OpenUser(self.dh, self.S.MAX, rid)

    def open_group(self, rid):
        return self.conn.OpenGroup(self.dh, self.S.MAX, rid)

    # reads -----------------------------------------------------------------------
    def user_dict(self, q, groups):
        lh = q.logon_hours
        return {
            'rid': q.rid,
            'accountName': s_(q.account_name),
            'fullName': s_(q.full_name),
            'description': s_(q.description),
            'comment': s_(q.comment),
            'homeDirectory': s_(q.home_directory),
            'homeDrive': s_(q.home_drive),
            'scriptPath': s_(q.logon_script),
            'profilePath': s_(q.profile_path),
            'workstations': s_(q.workstations),
            'acb': q.acct_flags,
            'primaryGroupId': q.primary_gid,
            'accountExpires': str(q.acct_expiry),
            'passwordLastSet': str(q.last_password_change),
            'passwordCanChange': str(q.allow_password_change),
            'passwordMustChange': str(q.force_password_change),
            'lastLogon': str(q.last_logon),
            'lastLogoff': str(q.last_logoff),
            'badPasswordCount': q.bad_password_count,
            'logonCount': q.logon_count,
            'countryCode': q.country_code,
            'codePage': q.code_page,
            'passwordExpired': bool(q.password_expired),
            'logonHours': {
                'unitsPerWeek': lh.units_per_week,
                'bits': base64.b64encode(bytes(lh.bits or [])).decode('ascii'),
            },
            'parameters': base64.b64encode(binary_string_bytes(q.parameters)).decode('ascii'),
            'groups': [{'rid': g.rid, 'attributes': g.attributes} for g in (groups.rids or [])],
        }

    def read_user(self, rid):
        uh = self.open_user(rid)
        try:
            q = self.conn.QueryUserInfo(uh, 21)
            groups = self.conn.GetGroupsForUser(uh)
        finally:
            self.close(uh)
        return self.user_dict(q, groups)

    def read_group(self, rid):
        gh = self.open_group(rid)
        try:
            g = self.conn.QueryGroupInfo(gh, 1)
            m = self.conn.QueryGroupMember(gh)
        finally:
            self.close(gh)
        rids = list(m.rids or []) if m is not None else []
        attrs = list(m.attributes or []) if m is not None else []
        return {
            'rid': rid,
            'name': s_(g.name),
            'description': s_(g.description),
            'attributes': g.attributes,
            'memberCount': g.num_members,
            'members': [{'rid': r, 'attributes': a} for r, a in zip(rids, attrs)],
        }

    def display_page(self, level, start, count):
        r = self.conn.QueryDisplayInfo(self.dh, level, start, count, 0xFFFFFFFF)
        self.last_dispinfo = time.monotonic()
        return list(r[2].entries or []) if r[2] is not None else []

    # writes ----------------------------------------------------------------------
    def user_info21(self, fields):
        S = self.S
        info = S.samr.UserInfo21()
        present = 0
        for key, value in fields.items():
            spec = S.user_fields.get(key)
            if spec is None:
                raise invalid('unknown or read-only user field %r' % key)
            attr, bit, kind = spec
            if value is None:
                raise invalid('user field %r is null; use "" to clear a string' % key)
            if kind == 'name':
                check_name(value, MAX_ACCOUNT_NAME, 'account name')
                v = S.lstr(value)
            elif kind == 'str':
                if not isinstance(value, str):
                    raise invalid('user field %r must be a string' % key)
                v = S.lstr(value)
            elif kind == 'nttime':
                v = nttime(value, key)
            elif kind in ('u32', 'u16'):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > (0xFFFF if kind == 'u16' else 0xFFFFFFFF):
                    raise invalid('user field %r must be an unsigned %s integer' % (key, '16-bit' if kind == 'u16' else '32-bit'))
                v = value
            elif kind == 'bool':
                if not isinstance(value, bool):
                    raise invalid('user field %r must be a boolean' % key)
                v = 1 if value else 0
            elif kind == 'hours':
                if not isinstance(value, dict):
                    raise invalid('logonHours must be {unitsPerWeek, bits}')
                bits = base64.b64decode(req(value, 'bits', str))
                units = req(value, 'unitsPerWeek', int)
                if len(bits) * 8 < units:
                    raise invalid('logonHours.bits holds fewer than unitsPerWeek bits')
                v = S.samr.LogonHours()
                v.units_per_week = units
                v.bits = list(bits)
            elif kind == 'binary':
                if not isinstance(value, str):
                    raise invalid('parameters must be base64')
                raw = base64.b64decode(value)
                if len(raw) % 2:
                    raw += b'\0'
                v = S.lsa.BinaryString()
                v.array = list(struct.unpack('<%dH' % (len(raw) // 2), raw))
                v.length = len(raw)
                v.size = len(raw)
            else:  # pragma: no cover
                raise invalid('unsupported field kind %r' % kind)
            setattr(info, attr, v)
            present |= bit
        info.fields_present = present
        return info

    def set_user_fields(self, uh, fields):
        if fields:
            self.conn.SetUserInfo2(uh, 21, self.user_info21(fields))

    def set_password(self, uh, password, expired, level):
        """Admin reset through SetUserInfo2: level 26 (UserInternal5InformationNew: salted
        RC4-MD5 buffer + PasswordExpired) first; a server without it (NT 4.0 before the level
        existed) answers INVALID_INFO_CLASS / RPC_ENUM_VALUE_OUT_OF_RANGE and we fall back to 24,
        then 23. Returns the level that was accepted."""
        S = self.S
        key = self.conn.session_key
        if level == 26:
            info = S.samr.UserInfo26()
            info.password = S.crypt_password_ex(password, key)
            info.password_expired = 1 if expired else 0
        elif level == 24:
            info = S.samr.UserInfo24()
            info.password = S.crypt_password(password, key)
            info.password_expired = 1 if expired else 0
        elif level == 23:
            info = S.samr.UserInfo23()
            info.info = S.samr.UserInfo21()
            info.info.fields_present = S.samr.SAMR_FIELD_NT_PASSWORD_PRESENT | S.samr.SAMR_FIELD_EXPIRED_FLAG
            info.info.password_expired = 1 if expired else 0
            info.password = S.crypt_password(password, key)
        else:
            raise invalid('password level must be 26, 24 or 23')
        try:
            self.conn.SetUserInfo2(uh, level, info)
            return level
        except S.NTSTATUSError as e:
            if level in (26, 24) and nt_code(e) in LEVEL_UNSUPPORTED:
                return self.set_password(uh, password, expired, 24 if level == 26 else 23)
            raise

    def current_acb(self, uh):
        return self.conn.QueryUserInfo(uh, 16).acct_flags


# --- the bridge ---------------------------------------------------------------------------------

class Bridge:
    READS = {'ping', 'domainInfo', 'listUsers', 'enumerateUsers', 'getUser', 'getUsers', 'listGroups', 'getGroup', 'getGroups',
             'lookupNames', 'passwordPolicy', 'benchRead'}

    def __init__(self, S):
        self.S = S
        self.sessions = {}
        self._tmpdir = None

    @property
    def tmpdir(self):
        # only for the private client smb.conf written when a connect names none
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix='samr-bridge-')
        return self._tmpdir

    def secrets(self, args):
        out = [args.get(k) for k in SECRET_ARGS if isinstance(args.get(k), str)]
        out += [s.p['password'] for s in self.sessions.values()]
        return out

    def handle(self, msg):
        rid = msg.get('id') if isinstance(msg, dict) else None
        args = msg.get('args') if isinstance(msg, dict) else None
        if args is None:
            args = {}
        try:
            if not isinstance(msg, dict) or not isinstance(msg.get('op'), str) or not isinstance(args, dict):
                raise invalid('a request is {"id": n, "op": "...", "args": {...}}')
            op = msg['op']
            fn = getattr(self, 'op_' + op, None)
            if fn is None:
                raise BridgeError('NT_STATUS_NOT_IMPLEMENTED', 'unknown op %r' % op)
            if op in ('connect', 'disconnect', 'verifyLogon', 'ping'):
                result = fn(args)
            else:
                session = self.session_for(args)
                result = session.run(lambda s: fn(s, args), op in self.READS)
            return {'id': rid, 'ok': True, 'result': result}
        except BridgeError as e:
            return {'id': rid, 'ok': False, 'error': e.to_json(self.secrets(args))}
        except self.S.NTSTATUSError as e:
            return {'id': rid, 'ok': False, 'error': from_ntstatus(e).to_json(self.secrets(args))}
        except Exception as e:  # a bug or a library surprise: say so, without secrets
            secrets = self.secrets(args)
            log('internal error: %s' % scrub(''.join(traceback.format_exception(type(e), e, e.__traceback__)), secrets))
            err = BridgeError('NT_STATUS_INTERNAL_ERROR', '%s: %s' % (type(e).__name__, e))
            return {'id': rid, 'ok': False, 'error': err.to_json(secrets)}

    def session_for(self, args):
        d = args.get('domain')
        if d is None:
            if len(self.sessions) == 1:
                return next(iter(self.sessions.values()))
            raise BridgeError('NT_STATUS_CONNECTION_INVALID', 'say which domain: %d are connected' % len(self.sessions))
        s = self.sessions.get(str(d).upper())
        if s is None:
            raise BridgeError('NT_STATUS_CONNECTION_INVALID', 'domain %r is not connected (call connect first)' % d)
        return s

    def close_all(self):
        for s in self.sessions.values():
            s.drop()
        self.sessions.clear()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    # session ops -----------------------------------------------------------------
    def op_ping(self, args):
        return {'pong': True, 'domains': sorted(self.sessions)}

    def op_connect(self, args):
        password = req(args, 'password', str)
        if password == '':
            raise invalid('a blank administrative password is refused')
        domain = req(args, 'domain', str)
        params = {
            'host': req(args, 'host', str),
            'port': opt(args, 'port', 445, int),
            'domain': domain,
            'username': req(args, 'username', str),
            'password': password,
            'clientConf': opt(args, 'clientConf', None, str),
            'smb1': opt(args, 'smb1', False, bool),
            'ntlmv2': opt(args, 'ntlmv2', True, bool),
            'bindingOptions': opt(args, 'bindingOptions', [], list),
            'connectTimeoutSeconds': opt(args, 'connectTimeoutSeconds', 10, (int, float)),
            'rpcTimeoutSeconds': opt(args, 'rpcTimeoutSeconds', 60, int),
            'debugLevel': opt(args, 'debugLevel', 0, int),
        }
        if params['clientConf'] is not None and not os.path.isfile(params['clientConf']):
            raise invalid('clientConf %r does not exist' % params['clientConf'])
        key = domain.upper()
        s = Session(self.S, params, self.tmpdir if params['clientConf'] is None else None)
        s.open()                      # the old connection (if any) stays until the new one works
        old = self.sessions.pop(key, None)
        if old is not None:
            old.drop()
        self.sessions[key] = s
        # not level 2: its user/group counts arm Samba's display-info snapshot (see listUsers 'fresh')
        name = s.conn.QueryDomainInfo(s.dh, 5)
        role = s.conn.QueryDomainInfo(s.dh, 7)
        oem = s.conn.QueryDomainInfo(s.dh, 4)
        primary = s.conn.QueryDomainInfo(s.dh, 6)
        return {
            'domain': s_(name.domain_name) or domain,
            'domainSid': str(s.sid),
            'serverRole': ROLES.get(role.role, str(role.role)),
            'oemInformation': s_(oem.oem_information),
            'server': s_(primary.primary),
        }

    def op_disconnect(self, args):
        s = self.sessions.pop(str(req(args, 'domain', str)).upper(), None)
        if s is not None:
            s.drop()
        return {'disconnected': s is not None}

    def op_verifyLogon(self, args):
        """Authenticate as a user: open an SMB session + SAMR pipe with those credentials."""
        s = self.session_for(args)
        username = req(args, 'username', str)
        password = req(args, 'password', str)
        t0 = time.monotonic()
        conn = s.open_pipe(username, password, opt(args, 'logonDomain', s.p['domain'], str))
        try:
            h = conn.Connect2(None, self.S.MAX)
            conn.Close(h)
        except self.S.NTSTATUSError as e:
            raise from_ntstatus(e)
        finally:
            del conn
        return {'ok': True, 'ms': round((time.monotonic() - t0) * 1000, 1)}

    # domain ----------------------------------------------------------------------
    def op_domainInfo(self, s, args):
        c = s.conn
        i2 = c.QueryDomainInfo(s.dh, 2)
        s.last_dispinfo = time.monotonic()   # level 2 counts come from the display-info snapshot
        i8 = c.QueryDomainInfo(s.dh, 8)
        out = {
            'domain': s_(i2.domain_name),
            'domainSid': str(s.sid),
            'numUsers': i2.num_users,
            'numGroups': i2.num_groups,
            'numAliases': i2.num_aliases,
            'sequenceNumber': str(i8.sequence_num),
            'domainCreateTime': str(i8.domain_create_time),
            'serverRole': ROLES.get(i2.role, str(i2.role)),
            'oemInformation': s_(i2.oem_information),
            'bridgeTimeUnix': int(time.time()),
        }
        # Samba (tdbsam) answers time(NULL) for the sequence number: a clock, not a modified count.
        out['sequenceLooksLikeClock'] = abs(int(i8.sequence_num) - int(time.time())) < 600
        try:
            i13 = c.QueryDomainInfo(s.dh, 13)
            out['modifiedCountAtLastPromotion'] = str(i13.modified_count_at_last_promotion)
        except self.S.NTSTATUSError as e:
            if nt_code(e) in CONNECTION_LOST:
                raise
        return out

    def op_passwordPolicy(self, s, args):
        p = s.conn.QueryDomainInfo(s.dh, 1)
        return {
            'minPasswordLength': p.min_password_length,
            'passwordHistoryLength': p.password_history_length,
            'passwordProperties': p.password_properties,
            'maxPasswordAge': str(p.max_password_age),
            'minPasswordAge': str(p.min_password_age),
        }

    def op_lookupNames(self, s, args):
        names = req(args, 'names', list)
        out = []
        for i in range(0, len(names), 1000):
            chunk = names[i:i + 1000]
            try:
                rids, types = s.conn.LookupNames(s.dh, [self.S.lstr(str(n)) for n in chunk])
                for n, r, t in zip(chunk, rids.ids, types.ids):
                    out.append({'name': n, 'rid': r if t != self.S.lsa.SID_NAME_UNKNOWN else None,
                                'type': {1: 'user', 2: 'group', 4: 'alias'}.get(t, 'unknown' if t == 8 else str(t))})
            except self.S.NTSTATUSError as e:
                if nt_code(e) != STATUS_CODES['NT_STATUS_NONE_MAPPED']:
                    raise
                out.extend({'name': n, 'rid': None, 'type': 'unknown'} for n in chunk)
        return out

    # users -----------------------------------------------------------------------
    def display_page_args(self, s, args, level):
        """One QueryDisplayInfo page (level 1 users, 3 groups) from startIndex/maxEntries/fresh: with
        `fresh`, the first page waits until the server worker's snapshot has been idle long enough to
        be dropped."""
        start = opt(args, 'startIndex', 0, int)
        count = opt(args, 'maxEntries', 1000, int)
        if count < 1 or count > 1000:
            raise invalid('maxEntries must be 1..1000')
        if start == 0 and opt(args, 'fresh', False, bool) and s.last_dispinfo is not None:
            wait = SAMBA_DISPINFO_IDLE_SECONDS + 0.5 - (time.monotonic() - s.last_dispinfo)
            if wait > 0:
                time.sleep(wait)
        return start, s.display_page(level, start, count)

    def op_listUsers(self, s, args):
        start, entries = self.display_page_args(s, args, 1)
        return {
            'entries': [{'index': e.idx, 'rid': e.rid, 'accountName': s_(e.account_name), 'fullName': s_(e.full_name),
                         'description': s_(e.description), 'acb': e.acct_flags} for e in entries],
            'nextIndex': (start + len(entries)) if entries else None,
        }

    def op_enumerateUsers(self, s, args):
        """All normal accounts (rid, name) via EnumDomainUsers, in one response. Samba re-reads the
        passdb when the ACB mask differs from the one its snapshot was made with, so each call
        uses ACB_NORMAL plus an unused high bit different from this session's previous one: the
        answer reflects every change, also those made through other connections."""
        S = self.S
        s.enum_turn = (getattr(s, 'enum_turn', -1) + 1) % len(ENUM_MASK_BITS)
        mask = S.samr.ACB_NORMAL | ENUM_MASK_BITS[s.enum_turn]
        out, resume = [], 0
        while True:
            resume_next, sam, count = s.conn.EnumDomainUsers(s.dh, resume, mask, 0xFFFFFFFF)
            if not count or sam is None:
                break
            out.extend({'rid': e.idx, 'accountName': s_(e.name)} for e in (sam.entries or []))
            if resume_next == resume:
                break
            resume = resume_next
        return {'entries': out}

    def op_getUser(self, s, args):
        return s.read_user(req(args, 'rid', int))

    def batch(self, s, rids, read):
        out = []
        for rid in rids:
            if not isinstance(rid, int) or isinstance(rid, bool):
                out.append({'rid': rid, 'ok': False, 'error': invalid('rid must be an integer').to_json([])})
                continue
            try:
                out.append({'rid': rid, 'ok': True, 'result': read(rid)})
            except self.S.NTSTATUSError as e:
                if nt_code(e) in CONNECTION_LOST:
                    raise   # the whole batch is retried once on a new connection
                out.append({'rid': rid, 'ok': False, 'error': from_ntstatus(e).to_json([])})
        return out

    def op_getUsers(self, s, args):
        return self.batch(s, req(args, 'rids', list), s.read_user)

    def op_benchRead(self, s, args):
        """Diagnostic: the raw library read rate (OpenUser + QueryUserInfo 21 + GetGroupsForUser +
        Close per RID) without building or sending results, to put next to getUsers' rate."""
        rids = req(args, 'rids', list)
        t0 = time.monotonic()
        for rid in rids:
            uh = s.open_user(rid)
            try:
                s.conn.QueryUserInfo(uh, 21)
                s.conn.GetGroupsForUser(uh)
            finally:
                s.close(uh)
        ms = (time.monotonic() - t0) * 1000
        return {'count': len(rids), 'ms': round(ms, 1), 'usersPerSecond': round(len(rids) / ms * 1000, 1) if ms else None}

    def op_createUser(self, s, args):
        S = self.S
        name = req(args, 'accountName', str)
        check_name(name, MAX_ACCOUNT_NAME, 'account name')
        fields = dict(opt(args, 'fields', {}, dict))
        for k in ('accountName', 'acb'):
            if k in fields:
                raise invalid('give %r as a top-level argument of createUser, not in fields' % k)
        password = opt(args, 'password', None, str)
        if password is not None:
            check_password(password)
        acb = opt(args, 'acb', None, int)
        if acb is None:
            acb = S.samr.ACB_NORMAL | (0 if opt(args, 'enabled', True, bool) else S.samr.ACB_DISABLED)
        info21 = s.user_info21(fields) if fields else None      # validate before creating anything
        uh, _granted, rid = s.conn.CreateUser2(s.dh, S.lstr(name), S.samr.ACB_NORMAL, S.MAX)
        step = 'fields'
        try:
            if info21 is not None:
                s.conn.SetUserInfo2(uh, 21, info21)
            if password is not None:
                step = 'password'
                s.set_password(uh, password, opt(args, 'forceChangeAtNextLogon', False, bool), opt(args, 'passwordLevel', 26, int))
            step = 'acb'
            s.set_user_fields(uh, {'acb': acb})
        except Exception as e:
            # created but not as asked: remove it, so a retry starts clean
            try:
                s.conn.DeleteUser(uh)
                log('createUser: step %s failed; removed the half-created account (rid %d)' % (step, rid))
                uh = None
            except Exception:
                log('createUser: step %s failed and the half-created account (rid %d) could not be removed' % (step, rid))
            if isinstance(e, S.NTSTATUSError):
                raise from_ntstatus(e, step=step)
            raise
        finally:
            if uh is not None:
                s.close(uh)
        return s.read_user(rid)

    def op_updateUser(self, s, args):
        S = self.S
        rid = req(args, 'rid', int)
        fields = dict(opt(args, 'fields', {}, dict))
        enabled = opt(args, 'enabled', None, bool)
        unlock = opt(args, 'unlock', False, bool)
        uh = s.open_user(rid)
        try:
            if enabled is not None or unlock:
                acb = fields.get('acb')
                if acb is None:
                    acb = s.current_acb(uh)
                if enabled is not None:
                    acb = (acb & ~S.samr.ACB_DISABLED) if enabled else (acb | S.samr.ACB_DISABLED)
                if unlock:
                    acb &= ~S.samr.ACB_AUTOLOCK
                fields['acb'] = acb
            s.set_user_fields(uh, fields)
        finally:
            s.close(uh)
        return s.read_user(rid)

    def op_deleteUser(self, s, args):
        rid = req(args, 'rid', int)
        uh = s.open_user(rid)
        try:
            s.conn.DeleteUser(uh)
        except Exception:
            s.close(uh)
            raise
        return {'rid': rid, 'deleted': True}

    def op_setPassword(self, s, args):
        S = self.S
        rid = req(args, 'rid', int)
        password = req(args, 'password', str)
        check_password(password)
        uh = s.open_user(rid)
        try:
            level = s.set_password(uh, password, opt(args, 'forceChangeAtNextLogon', False, bool), opt(args, 'level', 26, int))
            unlocked = False
            if opt(args, 'unlock', False, bool):
                acb = s.current_acb(uh)
                if acb & S.samr.ACB_AUTOLOCK:
                    s.set_user_fields(uh, {'acb': acb & ~S.samr.ACB_AUTOLOCK})
                    unlocked = True
            q = s.conn.QueryUserInfo(uh, 21)
        finally:
            s.close(uh)
        return {'rid': rid, 'passwordLastSet': str(q.last_password_change), 'passwordExpired': bool(q.password_expired),
                'acb': q.acct_flags, 'unlocked': unlocked, 'level': level}

    def op_changePassword(self, s, args):
        """SamrUnicodeChangePasswordUser2 (opnum 55; NT 4.0 and later): the new password encrypted
        with the old NT hash, plus the old NT hash DES-encrypted with the new one as proof."""
        S = self.S
        account = req(args, 'accountName', str)
        old = req(args, 'oldPassword', str)
        new = req(args, 'newPassword', str)
        check_password(old, 'oldPassword')
        check_password(new, 'newPassword')
        old_nt = S.crypto.md4_hash_blob(old.encode('utf-16-le'))
        new_nt = S.crypto.md4_hash_blob(new.encode('utf-16-le'))
        verifier = S.samr.Password()
        verifier.hash = list(S.crypto.des_crypt_blob_16(old_nt, new_nt[:14]))
        s.conn.ChangePasswordUser2(server=S.lstr('\\\\' + s.p['host']), account=S.lstr(account),
                                   nt_password=S.crypt_password(new, old_nt), nt_verifier=verifier,
                                   lm_change=False, lm_password=None, lm_verifier=None)
        return {'accountName': account, 'changed': True}

    # groups ----------------------------------------------------------------------
    def op_listGroups(self, s, args):
        start, entries = self.display_page_args(s, args, 3)
        return {
            'entries': [{'index': e.idx, 'rid': e.rid, 'name': s_(e.account_name), 'description': s_(e.description),
                         'attributes': e.acct_flags} for e in entries],
            'nextIndex': (start + len(entries)) if entries else None,
        }

    def op_getGroup(self, s, args):
        return s.read_group(req(args, 'rid', int))

    def op_getGroups(self, s, args):
        return self.batch(s, req(args, 'rids', list), s.read_group)

    def op_createGroup(self, s, args):
        S = self.S
        name = req(args, 'name', str)
        check_name(name, MAX_GROUP_NAME, 'group name')
        description = opt(args, 'description', None, str)
        gh, rid = s.conn.CreateDomainGroup(s.dh, S.lstr(name), S.MAX)
        try:
            if description:
                s.conn.SetGroupInfo(gh, 4, S.lstr(description))
        except S.NTSTATUSError as e:
            try:
                s.conn.DeleteDomainGroup(gh)
                gh = None
            except Exception:
                pass
            raise from_ntstatus(e, step='description')
        finally:
            if gh is not None:
                s.close(gh)
        return s.read_group(rid)

    def op_updateGroup(self, s, args):
        S = self.S
        rid = req(args, 'rid', int)
        name = opt(args, 'name', None, str)
        description = opt(args, 'description', None, str)
        if name is not None:
            check_name(name, MAX_GROUP_NAME, 'group name')
        gh = s.open_group(rid)
        try:
            if name is not None:
                s.conn.SetGroupInfo(gh, 2, S.lstr(name))
            if description is not None:
                s.conn.SetGroupInfo(gh, 4, S.lstr(description))
        finally:
            s.close(gh)
        return s.read_group(rid)

    def op_deleteGroup(self, s, args):
        rid = req(args, 'rid', int)
        gh = s.open_group(rid)
        try:
            if opt(args, 'removeMembers', False, bool):
                m = s.conn.QueryGroupMember(gh)
                for member in list(m.rids or []) if m is not None else []:
                    s.conn.DeleteGroupMember(gh, member)
            s.conn.DeleteDomainGroup(gh)
        except Exception:
            s.close(gh)
            raise
        return {'rid': rid, 'deleted': True}

    def op_addMember(self, s, args):
        group, user = req(args, 'groupRid', int), req(args, 'userRid', int)
        gh = s.open_group(group)
        try:
            # SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED
            s.conn.AddGroupMember(gh, user, opt(args, 'attributes', 7, int))
        finally:
            s.close(gh)
        return {'groupRid': group, 'userRid': user, 'member': True}

    def op_removeMember(self, s, args):
        group, user = req(args, 'groupRid', int), req(args, 'userRid', int)
        gh = s.open_group(group)
        try:
            s.conn.DeleteGroupMember(gh, user)
        finally:
            s.close(gh)
        return {'groupRid': group, 'userRid': user, 'member': False}


def main():
    global _proto_out
    # stdout is the protocol channel: keep a private handle on it and send fd 1 to stderr, so
    # nothing a library prints can corrupt the framing.
    _proto_out = os.fdopen(os.dup(1), 'wb', buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        S = Samba()
    except ImportError as e:
        write({'hello': {'protocol': PROTOCOL, 'samba': None, 'pid': os.getpid(),
                         'error': 'cannot import samba (%s): run with /usr/bin/python3 and install python3-samba' % e}})
        return 3
    write({'hello': {'protocol': PROTOCOL, 'samba': S.samba.version, 'pid': os.getpid(),
                     'python': '%d.%d.%d' % sys.version_info[:3]}})
    bridge = Bridge(S)
    try:
        for raw in sys.stdin.buffer:
            line = raw.strip()
            if not line:
                continue
            try:
                msg = json.loads(line.decode('utf-8'))
            except (ValueError, UnicodeDecodeError):
                write({'id': None, 'ok': False,
                       'error': invalid('a request line is not JSON').to_json([])})
                continue
            write(bridge.handle(msg))
    finally:
        bridge.close_all()
    return 0


if __name__ == '__main__':
    sys.exit(main())
