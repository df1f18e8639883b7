#!/usr/bin/env bash
# Uploads dist/gadget/ (scripts/build-gadget.sh) to a wiki with a bot password; refuses a build
# whose checks did not pass. Credentials only from the environment:
#   TPR_DEPLOY_API=https://WIKI/w/api.php TPR_DEPLOY_USER='Name@appid' TPR_DEPLOY_PASSWORD=... \
#     scripts/deploy-gadget.sh [--position first|last] [--not-default] [--json-definition] [--dry-run]
# See scripts/deploy_gadget.py --help.
set -euo pipefail
exec python3 "$(dirname "${BASH_SOURCE[0]}")/deploy_gadget.py" "$@"
