#!/usr/bin/env bash
# Starts the test wiki (PHP's built-in server + MediaWiki's router, from the install dir) and the
# fake-hosts server, each in its own process group (setsid); pids/pgids go to $STATE/run/.
# Idempotent: a server already answering is left alone. Run setup.sh first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
[ -f "$STATE/LocalSettings.php" ] || die "no wiki in $STATE: run tests/mediawiki/setup.sh first"
mkdir -p "$STATE/run" "$STATE/logs"

alive() { # NAME: its recorded process group still exists
  local f="$STATE/run/$1.pgid"
  [ -f "$f" ] && kill -0 -- "-$(cat "$f")" 2>/dev/null
}

wait_http() { # URL NAME PIDNAME: wait up to 30 s for a 200
  local i
  for i in $(seq 1 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1")" = 200 ]; then return 0; fi
    alive "$3" || { tail -20 "$STATE/logs/$3.log" >&2; die "$2 exited"; }
    sleep 0.1
  done
  tail -20 "$STATE/logs/$3.log" >&2
  die "$2 did not answer 200 at $1"
}

launch() { # NAME DIR CMD...: start CMD in DIR as leader of a new session (pid = pgid)
  local name=$1 dir=$2; shift 2
  rm -f "$STATE/run/$name.pgid"
  (cd "$dir" && exec setsid sh -c 'echo $$ >"$0"; exec "$@"' "$STATE/run/$name.pgid" "$@" \
    >"$STATE/logs/$name.log" 2>&1 </dev/null) &
  for _ in $(seq 1 100); do [ -s "$STATE/run/$name.pgid" ] && return 0; sleep 0.02; done
  die "could not start $name"
}

# --- fake hosts -------------------------------------------------------------------------------
if [ "$(curl -s --max-time 2 "http://127.0.0.1:$FAKE_PORT/__health" || true)" = ok ]; then
  log "fake-hosts already running on :$FAKE_PORT"
else
  launch fake-hosts "$HARNESS_DIR" "$PYTHON" "$HARNESS_DIR/fake-hosts.py" --port "$FAKE_PORT" \
    --log "$STATE/logs/fake-hosts.requests.jsonl"
  wait_http "http://127.0.0.1:$FAKE_PORT/__health" fake-hosts fake-hosts
  log "fake-hosts on http://127.0.0.1:$FAKE_PORT (pgid $(cat "$STATE/run/fake-hosts.pgid"))"
fi

# --- wiki -------------------------------------------------------------------------------------
MAIN="$WIKI_URL/index.php?title=Main_Page"
if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$MAIN" || true)" = 200 ]; then
  log "wiki already running at $WIKI_URL"
else
  launch wiki "$MW_IP" env PHP_CLI_SERVER_WORKERS="$PHP_WORKERS" MW_CONFIG_FILE="$MW_CONFIG_FILE" \
    php -d display_errors=0 -d log_errors=1 -d error_log="$STATE/logs/php-errors.log" \
    -S "127.0.0.1:$WIKI_PORT" -t "$MW_IP" maintenance/dev/includes/router.php
  wait_http "$MAIN" wiki wiki
  log "wiki on $WIKI_URL (pgid $(cat "$STATE/run/wiki.pgid"), $PHP_WORKERS workers)"
fi
