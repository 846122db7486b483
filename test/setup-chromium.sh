#!/bin/sh
# Test set-up for test/fleet-html.test.ts: Debian's chromium, installed when
# missing (the HTML report is checked in a real headless browser). Needs root
# and the Debian mirror; does nothing when /usr/bin/chromium is already there.
set -e
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-chromium: /usr/bin/chromium is missing and this is not root: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x /usr/bin/chromium
