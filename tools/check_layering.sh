#!/usr/bin/env bash
# Enforces DESIGN.md §2: I/O headers only in adapter folders, and the forbidden edges
# between libraries (pure -> adapter, billing -> sipcore, sipcore -> route/billing).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
complain() { echo "layering: $*"; status=1; }

adapters='^(libsipcore/uv/|libsipcore/crypto/|libroute/domain/ares/|libroute/domain/sqlite/|libroute/reg/sqlite/|libroute/lcr/sqlite/|libroute/sqlite/|libbilling/sqlite/|server/api_sqlite/|server/wiring/http_server\.cpp|server/wiring/api_tls\.cpp|server/main\.cpp|tools/|tests/|bench/|fuzz/)'
while IFS= read -r hit; do
  file=${hit%%:*}
  [[ $file =~ $adapters ]] || complain "$hit (I/O header outside an adapter folder)"
done < <(git grep -nE '#include *<(uv\.h|ares\.h|sqlite3\.h|microhttpd\.h|openssl/[a-z_0-9]+\.h)>' -- \
           'libsipcore' 'libroute' 'libbilling' 'server' 2>/dev/null)

# billing sees plain call records, never SIP messages
while IFS= read -r hit; do complain "$hit (billing must not depend on sipcore)"; done < \
  <(git grep -nE '#include *"sip/' -- 'libbilling' 2>/dev/null)
# sipcore knows nothing of routing or billing
while IFS= read -r hit; do complain "$hit (sipcore must not depend on route/billing)"; done < \
  <(git grep -nE '#include *"(route|billing)/' -- 'libsipcore' 2>/dev/null)
# pure libraries never include adapter headers
while IFS= read -r hit; do
  file=${hit%%:*}
  [[ $file =~ $adapters ]] || complain "$hit (pure code includes an adapter header)"
done < <(git grep -nE '#include *"(sip/uv/|route/domain/ares/|route/domain/sqlite/|route/reg/sqlite/|route/lcr/sqlite/|route/sqlite/|billing/sqlite/)' -- \
           'libsipcore' 'libroute' 'libbilling' 'server/core' 2>/dev/null)

[ $status -eq 0 ] && echo "layering: OK"
exit $status
