#!/bin/sh
# The browser tests drive Debian's Chromium (no browser download): install it when it is missing and we may.
set -e
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "the browser tests need /usr/bin/chromium: run 'sudo apt-get install -y chromium'" >&2
  exit 1
fi
