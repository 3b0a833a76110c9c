#!/bin/sh
# Samba "delete user from group script": del-user-from-group.sh NSSWRAP_DIR GROUP USER
set -e
GR="$1/group"
exec 9>>"$1/.lock"; flock 9
awk -F: -v OFS=: -v g="$2" -v u="$3" '$1==g { n=split($4,m,","); s=""; for(i=1;i<=n;i++) if(m[i]!=u) s=(s=="" ? m[i] : s "," m[i]); $4=s } {print}' "$GR" >"$GR.tmp" && mv "$GR.tmp" "$GR"
