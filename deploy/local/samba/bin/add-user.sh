#!/bin/sh
# Samba "add user script": add-user.sh NSSWRAP_DIR USER
# Adds USER to the private passwd file served by nss_wrapper (uids from 20000).
# The file is always REPLACED (temp file + mv = new inode): nss_wrapper reloads
# only on an mtime change (whole seconds) or a new inode; in-place appends get lost.
set -e
PW="$1/passwd"
exec 9>>"$1/.lock"; flock 9
grep -q "^$2:" "$PW" && exit 0
uid=$(awk -F: 'BEGIN{m=20000} $3>=20000 && $3<65534 && $3>m {m=$3} END{print m+1}' "$PW")
{ cat "$PW"; echo "$2:x:$uid:10513::/nonexistent:/usr/sbin/nologin"; } >"$PW.tmp" && mv "$PW.tmp" "$PW"
