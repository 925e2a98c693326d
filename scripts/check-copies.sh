#!/usr/bin/env bash
# check-copies.sh [REV]: check that drivers-iommu/ and include-linux/ hold
# exactly the final version of every file the series of patches/<base>/
# adds under drivers/iommu/ and include/linux/.  Without REV the series is
# applied in the check work tree first; with REV (a commit of the check
# work tree) that commit is used.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
base_init
rev=${1:-}
if [[ -z $rev ]]; then
	list=$(series_patches) || exit 1
	mapfile -t patches <<<"$list"
	need_base
	lock 7 "$CHECK_WORK.lock" "the check tree $CHECK_WORK"
	series_into_check_tree "${patches[@]}" ||
		die "patch $(basename "$AM_FAILED") does not apply (check work tree $CHECK_WORK); cannot check the copies"
	rev=${SERIES_COMMITS[-1]}
fi
if out=$(compare_copies "$CHECK_WORK" "$rev"); then
	info "drivers-iommu/ and include-linux/ match the series"
else
	printf '%s\n' "$out" >&2
	die "drivers-iommu/ or include-linux/ differ from the files the series adds (run: make export)"
fi
exit
}
