#!/usr/bin/env bash
# Installs qemu-user (Debian) for test/cpu-floor.test.ts, which runs the
# executable on emulated older CPUs. Idempotent; quiet when already there.
set -euo pipefail
command -v qemu-x86_64 >/dev/null 2>&1 && exit 0
echo "test setup: installing qemu-user (Debian) for the CPU-floor test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq qemu-user >/dev/null
