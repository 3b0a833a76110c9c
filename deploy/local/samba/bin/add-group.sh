#!/bin/sh
# Samba "add group script": add-group.sh NSSWRAP_DIR GROUP -> prints the gid (gids from 30000)
set -e
GR="$1/group"
exec 9>>"$1/.lock"; flock 9
g=$(awk -F: -v n="$2" '$1==n {print $3}' "$GR")
if [ -z "$g" ]; then
  g=$(awk -F: 'BEGIN{m=30000} $3>=30000 && $3<65534 && $3>m {m=$3} END{print m+1}' "$GR")
  { cat "$GR"; echo "$2:x:$g:"; } >"$GR.tmp" && mv "$GR.tmp" "$GR"
fi
echo "$g"
