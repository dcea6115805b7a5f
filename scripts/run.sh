#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build `trunkline` and `trunkctl`, and run
# trunkline in the foreground on its embedded defaults (SIP on UDP and TCP 127.0.0.1:5060,
# database var/trunkline.db). It routes calls as soon as a customer, a vendor and rates exist
# (README "Softswitch": the first call). Extra arguments go to trunkline (see
# `trunkline --help`), e.g. scripts/run.sh --udp 127.0.0.1:5070.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release --wrap-mode=nofallback -Dtests=false -Dbench=false >/dev/null
fi
meson compile -C build -j2 trunkline trunkctl >/dev/null
mkdir -p var
exec build/server/trunkline "$@"
