#!/usr/bin/env bash
# Install the Debian packages the pipeline needs.  Idempotent: when all are
# installed it only runs dpkg-query; apt-get update runs only when something
# is missing.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

pkgs=(
	git make gcc libc6-dev bc flex bison libelf-dev libssl-dev
	python3 python3-ply python3-git perl sparse coccinelle qemu-system-x86 ccache xz-utils
	gcc-aarch64-linux-gnu qemu-system-arm
	ocaml-nox ocaml-findlib b4
	rsync cpio kmod shellcheck debian-archive-keyring apt dpkg
	util-linux coreutils findutils
	busybox-static libcap-dev
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $st == ii* ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	info "all ${#pkgs[@]} packages present"
	exit 0
fi
info "installing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
	SUDO=(sudo -n)
else
	SUDO=()
fi
export DEBIAN_FRONTEND=noninteractive
APT_SUDO=${SUDO[*]} apt_update "of the machine's apt sources" ||
	die "apt-get update failed (see above); cannot install ${missing[*]}"
"${SUDO[@]}" apt-get install -q -y --no-install-recommends "${missing[@]}" </dev/null ||
	die "apt-get install failed for: ${missing[*]}"
exit
}
