#!/usr/bin/env bash
# Installs a real VS Code for the end-to-end test, offline: code-server 4.100.3 (= VS Code 1.100.3, the last
# code-server line on Node 20) from the npm registry, with Debian packages for its native modules and Chromium.
# Everything goes into $E2E_DIR (default .e2e/, git-ignored). Idempotent: a finished install is reused.
#
#   npm run e2e:setup      (then: npm run e2e)
#
# Workarounds (each one failed without it):
#  1. @vscode/ripgrep's postinstall downloads rg from GitHub and has no switch to skip it, but it first looks in
#     its download cache ($TMPDIR/vscode-ripgrep-cache-<version>/ripgrep-<tag>-<target>.tar.gz): we put a tarball
#     of Debian's /usr/bin/rg there.
#  2. Order: `npm install --ignore-scripts code-server`, seed that cache, then `npm rebuild` to run the scripts.
#  3. npm_config_yes=true (node-pty's postinstall runs `npx node-gyp …`, which an .npmrc `yes=false` cancels) and
#     npm_config_unsafe_perm=true (code-server's postinstall refuses to run as root without it).
#  4. Debian packages: ripgrep, chromium, build-essential, python3, pkg-config, libkrb5-dev (argon2 and kerberos
#     build from source).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
E2E_DIR="${E2E_DIR:-$ROOT/.e2e}"
CS_VERSION="${CS_VERSION:-4.100.3}"
CS_DIR="$E2E_DIR/cs"
ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
MARKER="$E2E_DIR/.installed-$CS_VERSION"
START=$(date +%s)
log() { echo "[e2e-setup +$(( $(date +%s) - START ))s] $*"; }

node -e 'if (process.versions.node.split(".")[0] !== "20") { console.error("code-server " + process.argv[1] + " needs Node 20; this is " + process.version); process.exit(1) }' "$CS_VERSION"

if [ -f "$MARKER" ] && [ -f "$ENTRY" ] && node "$ENTRY" --version >/dev/null 2>&1; then
  log "code-server $CS_VERSION already installed in $CS_DIR"
  exit 0
fi

# 1. Debian packages, only those missing (CI installs them in .ci/run already).
PKGS="ripgrep chromium build-essential python3 pkg-config libkrb5-dev git"
MISSING=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || MISSING="$MISSING $p"; done
if [ -n "$MISSING" ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing Debian packages:$MISSING (run as root or install them)"; exit 1; fi
  log "apt-get install$MISSING"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq -o DPkg::Lock::Timeout=1800
  # shellcheck disable=SC2086
  apt-get install -y -qq -o DPkg::Lock::Timeout=1800 $MISSING >/dev/null
fi

# 2. code-server without its install scripts.
log "npm install code-server@$CS_VERSION --ignore-scripts"
mkdir -p "$CS_DIR"
cd "$CS_DIR"
[ -f package.json ] || echo '{"name":"dpipe-e2e-code-server","version":"1.0.0","private":true}' > package.json
npm install --no-audit --no-fund --no-save --ignore-scripts "code-server@$CS_VERSION" >/dev/null
CSP="$CS_DIR/node_modules/code-server"

# 3. Seed @vscode/ripgrep's download cache with Debian's rg.
RG_PKG_VER=$(node -e 'console.log(require(process.argv[1]).packages["node_modules/@vscode/ripgrep"].version)' "$CSP/lib/vscode/npm-shrinkwrap.json")
RG_WORK=$(mktemp -d)
(cd "$RG_WORK" && npm pack -q "@vscode/ripgrep@$RG_PKG_VER" >/dev/null && tar xzf "vscode-ripgrep-$RG_PKG_VER.tgz" package/lib/postinstall.js)
RG_TAG=$(sed -n "s/^const VERSION = '\(.*\)';.*/\1/p" "$RG_WORK/package/lib/postinstall.js")
rm -rf "$RG_WORK"
[ -n "$RG_TAG" ] || { echo "could not read the ripgrep tag from @vscode/ripgrep@$RG_PKG_VER"; exit 1; }
case "$(uname -m)" in
  x86_64) RG_TARGET=x86_64-unknown-linux-musl ;;
  aarch64) RG_TARGET=aarch64-unknown-linux-musl ;;
  *) echo "unsupported architecture $(uname -m)"; exit 1 ;;
esac
RG_CACHE="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$RG_PKG_VER"
mkdir -p "$RG_CACHE"
tar czf "$RG_CACHE/ripgrep-$RG_TAG-$RG_TARGET.tar.gz" -C /usr/bin rg
log "seeded $RG_CACHE/ripgrep-$RG_TAG-$RG_TARGET.tar.gz"

# 4. Run the install scripts (native builds; a few minutes on 2 cores).
log "npm rebuild (code-server postinstall, native modules)"
npm_config_yes=true npm_config_unsafe_perm=true npm rebuild --foreground-scripts > "$E2E_DIR/rebuild.log" 2>&1 || {
  tail -40 "$E2E_DIR/rebuild.log"; exit 1; }
test -x "$CSP/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"
node "$ENTRY" --version
touch "$MARKER"
log "done: $(du -sh "$CS_DIR" | cut -f1) in $CS_DIR"
