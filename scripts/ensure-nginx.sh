#!/bin/sh
# The reverse-proxy tests (test/nginx*.test.ts) run Debian's nginx: install it when it is missing and we may.
set -e
if [ -x /usr/sbin/nginx ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's nginx-light for the reverse-proxy tests"
  apt-get update -qq
  # nginx-light (in Debian 12 a small package that brings nginx itself); nginx where a release has dropped it.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
else
  echo "the reverse-proxy tests need /usr/sbin/nginx: run 'sudo apt-get install -y nginx-light'" >&2
  exit 1
fi
