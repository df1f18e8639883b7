# Shared settings of the real-MediaWiki harness; sourced by setup.sh, start.sh and stop.sh.
# Defaults match hosts.json (wiki.port, fakePort); override with the environment.
HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MW_IP=${TPR_MW_INSTALL:-/usr/share/mediawiki}          # Debian's MediaWiki 1.39 install dir
STATE=${TPR_MW_DIR:-/tmp/tpr-mw}                       # wiki data, LocalSettings, logs, pids
WIKI_PORT=${TPR_MW_PORT:-8088}
FAKE_PORT=${TPR_FAKE_PORT:-8089}
ADMIN_USER=Admin
ADMIN_PASS=${TPR_MW_ADMIN_PASS:-TprAuditor-test-2026}
DB_NAME=tprwiki
PHP_WORKERS=${TPR_MW_WORKERS:-4}
PYTHON=${PYTHON:-python3}
export MW_CONFIG_FILE="$STATE/LocalSettings.php"
export MW_INSTALL_PATH="$MW_IP"
WIKI_URL="http://127.0.0.1:$WIKI_PORT"

log() { printf '[tpr-mw] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
