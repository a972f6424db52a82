#!/usr/bin/env bash
# Prepares this machine for kubewire. Idempotent and fast when nothing is missing:
#   - must run as root (kubewire builds namespaces, links and nft tables);
#   - Node >= 20;
#   - installs the Debian/Ubuntu packages below when any is missing;
#   - proves the kernel can do netns, veth, bridge and vxlan by making each once
#     inside a throwaway namespace (module lists lie; the kernel does not);
#   - runs `npm ci` when node_modules is missing or older than package-lock.json.
# Usage: scripts/setup.sh [--quiet]
set -euo pipefail

quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
say() { [ "$quiet" = 1 ] || echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || die "kubewire needs root (it creates network namespaces, links and nftables tables); run: sudo npm start"

command -v node >/dev/null || die "Node.js >= 20 is not installed (see README: Requirements)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old; kubewire needs Node >= 20"

# command -> Debian package
# dnsmasq (the DNS benchmark's reference) comes from dnsmasq-base: the binary
# alone. The `dnsmasq` package would also install and start a system service
# that takes port 53 and the host's resolver; the benchmark runs its own
# foreground dnsmasq on 127.0.0.1 and a high port instead.
declare -A wanted=(
  [ip]=iproute2 [bridge]=iproute2 [nft]=nftables [curl]=curl [ping]=iputils-ping
  [dig]=bind9-dnsutils [iperf3]=iperf3 [tcpdump]=tcpdump [conntrack]=conntrack
  [unshare]=util-linux [nsenter]=util-linux [arping]=iputils-arping
  [dnsperf]=dnsperf [dnsmasq]=dnsmasq-base
)
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them; install them by hand"
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # iperf3 asks whether to start a daemon; say no.
  echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections 2>/dev/null || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel check: make each kind of device once in a scratch namespace.
probe="kw-setup-probe-$$"
cleanup_probe() { ip netns del "$probe" 2>/dev/null || true; }
trap cleanup_probe EXIT
ip netns add "$probe" 2>/dev/null || die "the kernel refused a network namespace (CONFIG_NET_NS); kubewire cannot run here"
for kind in "veth peer name kwp1" "bridge" "vxlan id 1 dstport 8472 local 127.0.0.1 nolearning"; do
  if ! ip -n "$probe" link add kwprobe0 type $kind 2>/dev/null; then
    die "the kernel cannot make a '${kind%% *}' device (module missing? try: modprobe ${kind%% *})"
  fi
  ip -n "$probe" link del kwprobe0
done
ip netns exec "$probe" nft list tables >/dev/null 2>&1 || die "nftables does not work in a network namespace (kernel nf_tables missing?)"
cleanup_probe
trap - EXIT

# node_modules: install when absent or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

say "ready"
