#!/usr/bin/env bash
# Stops what start.sh started, by process group (PHP's built-in server leaves its workers
# running when only the parent is killed). Idempotent.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
self_pgid=$(ps -o pgid= -p $$ | tr -d ' ')
for name in wiki fake-hosts; do
  f="$STATE/run/$name.pgid"
  [ -f "$f" ] || continue
  pgid=$(cat "$f")
  if [ -n "$pgid" ] && [ "$pgid" != "$self_pgid" ] && [ "$pgid" -gt 1 ] && kill -0 -- "-$pgid" 2>/dev/null; then
    kill -TERM -- "-$pgid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -0 -- "-$pgid" 2>/dev/null && kill -KILL -- "-$pgid" 2>/dev/null
    log "stopped $name (pgid $pgid)"
  fi
  rm -f "$f"
done
