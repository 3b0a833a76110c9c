#!/bin/sh
# Samba "delete group script": del-group.sh NSSWRAP_DIR GROUP
set -e
GR="$1/group"
exec 9>>"$1/.lock"; flock 9
awk -F: -v n="$2" '$1!=n' "$GR" >"$GR.tmp" && mv "$GR.tmp" "$GR"
