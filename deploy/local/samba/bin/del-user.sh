#!/bin/sh
# Samba "delete user script": del-user.sh NSSWRAP_DIR USER
set -e
PW="$1/passwd"
exec 9>>"$1/.lock"; flock 9
awk -F: -v u="$2" '$1!=u' "$PW" >"$PW.tmp" && mv "$PW.tmp" "$PW"
