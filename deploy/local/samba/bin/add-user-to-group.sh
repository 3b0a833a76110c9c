#!/bin/sh
# Samba "add user to group script": add-user-to-group.sh NSSWRAP_DIR GROUP USER
set -e
GR="$1/group"
exec 9>>"$1/.lock"; flock 9
awk -F: -v OFS=: -v g="$2" -v u="$3" '$1==g { n=split($4,m,","); f=0; for(i=1;i<=n;i++) if(m[i]==u) f=1;
  if(!f) $4 = ($4=="" ? u : $4 "," u) } {print}' "$GR" >"$GR.tmp" && mv "$GR.tmp" "$GR"
