#!/usr/bin/env bash
# selftest.sh: end-to-end test of the pipeline on a throwaway two-patch
# series (a comment in drivers/iommu/iommu.c; a drivers/iommu/.kunitconfig
# and a new include/linux header), made in a scratch copy of this repo
# under a temporary directory: nothing is written to this repo's patches/.
#
# Tests apply, export (byte-stable round trip, copies), check-copies and
# the error paths (dirty work tree, committed work kept, patch that does not
# apply, missing series, unknown base, missing package).  With
# SELFTEST_KUNIT=1 also kunit.sh uml on the throwaway series, with
# SELFTEST_CHECK=1 also check.sh (CHECK_KUNIT_CONFIGS applies); with
# SELFTEST_BAD=1 also check.sh on a third patch with a W=1, sparse,
# kernel-doc and coccicheck problem (without the full-series KUnit runs).
# Needs the base fetched (make fetch).  Ends with "N passed, N failed".
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
base_init
need_base

# A fixed place in the cache (not /tmp): the check tree, build dirs and
# results of the self-test are kept between runs, apart from the real ones,
# so that its builds are incremental and ccache hits.
T=$BASE_DIR/selftest
mkdir -p "$T"
exec 8>"$T.lock"
flock -n 8 || die "another selftest of $BASE is running ($T.lock)"
rm -rf "$T/repo" "$T/work" "$T/gen" "$T/cache" "$T/series" "$T/iommu-selftest.h"
tag=series
S=$T/repo
pass=0
fail=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	rm -rf "$T/repo" "$T/work" "$T/gen" "$T/cache"
}
trap cleanup EXIT
export BUILD_ROOT=$T/build RESULTS=$T/results

ok() {
	printf 'PASS %s\n' "$1"
	pass=$((pass + 1))
}
ko() {
	printf 'FAIL %s\n' "$1"
	[[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/      /' | head -n 30
	fail=$((fail + 1))
}
# expect_fail NAME PATTERN CMD...: CMD must fail and print PATTERN.
expect_fail() {
	local name=$1 pat=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		ko "$name" "succeeded, expected a failure: $out"
	elif grep -q -E -- "$pat" <<<"$out"; then
		ok "$name"
	else
		ko "$name" "failed without the expected message /$pat/: $out"
	fi
}

# Scratch copy of the repo (working tree as it is), with its own git.
mkdir -p "$S"
rsync -a --exclude=.git --exclude='/patches/' --exclude='/drivers-iommu/' --exclude='/include-linux/' "$REPO/" "$S/"
git -C "$S" init -q
git -C "$S" add -A
git -C "$S" commit -q -m scratch
export WORK=$T/work CHECK_WORK=$T/check

# The throwaway series.
me="$(git config user.name) <$(git config user.email)>"
ensure_worktree "$T/gen" 2>/dev/null
git -C "$T/gen" checkout -q -b "$tag-gen"
(
	cd "$T/gen"
	sed -i '0,/^#include/s//\/* iommu-series selftest: a trivial comment. *\/\n#include/' drivers/iommu/iommu.c
	git commit -q -a -F - <<EOF
iommu: add a comment (selftest)

Throwaway patch of the pipeline self-test.

Signed-off-by: $me
EOF
	cat >drivers/iommu/.kunitconfig <<'EOF'
CONFIG_KUNIT=y
CONFIG_COMPILE_TEST=y
CONFIG_GENERIC_PT=y
CONFIG_IOMMU_PT=y
CONFIG_IOMMU_PT_AMDV1=y
CONFIG_IOMMU_PT_KUNIT_TEST=y
EOF
	printf '/* SPDX-License-Identifier: GPL-2.0 */\n#ifndef _LINUX_IOMMU_SELFTEST_H\n#define _LINUX_IOMMU_SELFTEST_H\n#endif\n' \
		>include/linux/iommu-selftest.h
	git add -A
	git commit -q -F - <<EOF
iommu: add a .kunitconfig (selftest)

Throwaway patch of the pipeline self-test.

Signed-off-by: $me
EOF
	git config "branch.$tag-gen.description" "iommu: pipeline self-test series

Throwaway two-patch series made by scripts/selftest.sh."
)
if WORK=$T/gen "$S/scripts/export.sh" >/dev/null 2>&1 && [[ -f $S/patches/$BASE/series ]] &&
	[[ $(wc -l <"$S/patches/$BASE/series") -eq 2 ]] && [[ -f $S/drivers-iommu/$BASE/.kunitconfig ]] &&
	[[ -f $S/include-linux/$BASE/iommu-selftest.h ]]; then
	ok "export of a new branch: 2 patches, series, copies (.kunitconfig, iommu-selftest.h)"
else
	ko "export of a new branch"
fi
git -C "$S" add -A
git -C "$S" commit -q -m "throwaway series"
rm -rf "$T/gen"

# apply, then apply again, then export: nothing changes.
if out=$("$S/scripts/apply.sh" 2>&1) && [[ $(git -C "$WORK" rev-list --count "$BASE_TAG..$tag") -eq 2 ]] &&
	[[ $(git -C "$WORK" symbolic-ref --short HEAD) == "$tag" ]]; then
	ok "apply creates the work tree with 2 patches on branch $tag"
else
	ko "apply creates the work tree" "$out"
fi
if [[ $(git -C "$WORK" config "branch.$tag.description") == "iommu: pipeline self-test series"* ]]; then
	ok "apply restores the cover letter as the branch description"
else
	ko "apply restores the cover letter as the branch description"
fi
head1=$(git -C "$WORK" rev-parse HEAD)
if out=$("$S/scripts/apply.sh" 2>&1) && grep -q 'already has this series' <<<"$out" &&
	[[ $(git -C "$WORK" rev-parse HEAD) == "$head1" ]] &&
	[[ -z $(git -C "$WORK" branch --list "$tag-prev-*") ]]; then
	ok "apply again: branch unchanged, no backup"
else
	ko "apply again" "$out"
fi
if "$S/scripts/export.sh" >/dev/null 2>&1 && [[ -z $(git -C "$S" status --porcelain) ]]; then
	ok "export round trip is byte-stable"
else
	ko "export round trip is byte-stable" "$(git -C "$S" status --short; git -C "$S" diff | head -n 40)"
fi
if "$S/scripts/check-copies.sh" >/dev/null 2>&1; then
	ok "check-copies passes on the exported series"
else
	ko "check-copies passes on the exported series"
fi

# check-copies failures name the file.
echo changed >>"$S/drivers-iommu/$BASE/.kunitconfig"
expect_fail "check-copies: a different copy is named" "differs: drivers-iommu/$BASE/.kunitconfig" "$S/scripts/check-copies.sh"
git -C "$S" checkout -q -- drivers-iommu
echo extra >"$S/include-linux/$BASE/extra.h"
expect_fail "check-copies: an extra copy is named" "extra: include-linux/$BASE/extra.h" "$S/scripts/check-copies.sh"
rm "$S/include-linux/$BASE/extra.h"
echo stray >"$S/drivers-iommu/stray.c"
expect_fail "check-copies: a copy outside a base directory is named" 'extra: drivers-iommu/stray.c' "$S/scripts/check-copies.sh"
rm "$S/drivers-iommu/stray.c"
mv "$S/include-linux/$BASE/iommu-selftest.h" "$T/"
expect_fail "check-copies: a missing copy is named" "missing: include-linux/$BASE/iommu-selftest.h" "$S/scripts/check-copies.sh"
mv "$T/iommu-selftest.h" "$S/include-linux/$BASE/"

# Dirty work tree: refused, nothing changed.
touch "$WORK/drivers/iommu/untracked.c"
expect_fail "apply refuses a dirty work tree (untracked file), naming it" "work tree $WORK has uncommitted" "$S/scripts/apply.sh"
expect_fail "export refuses a dirty work tree" "refusing to export" "$S/scripts/export.sh"
if [[ -f $WORK/drivers/iommu/untracked.c && $(git -C "$WORK" rev-parse HEAD) == "$head1" ]]; then
	ok "the dirty work tree is untouched"
else
	ko "the dirty work tree is untouched"
fi
rm "$WORK/drivers/iommu/untracked.c"

# Committed work is kept on a backup branch.
echo '/* more work */' >>"$WORK/drivers/iommu/iommu.c"
git -C "$WORK" commit -q -a -m "more work"
work_head=$(git -C "$WORK" rev-parse HEAD)
if out=$("$S/scripts/apply.sh" 2>&1) && grep -q "kept as branch $tag-prev-" <<<"$out" &&
	[[ -n $(git -C "$WORK" branch --list --contains "$work_head" "$tag-prev-*") ]] &&
	[[ $(git -C "$WORK" rev-parse HEAD) == "$head1" ]]; then
	ok "apply keeps committed work on $tag-prev-<date> and rebuilds the branch"
else
	ko "apply keeps committed work" "$out"
fi

# A patch that does not apply: am aborted, the patch named, nothing changed.
p1=$(sed -n 1p "$S/patches/$BASE/series")
sed -i 's/^ #define pr_fmt(fmt)    "iommu: " fmt/ #define pr_fmt(fmt) "bogus: " fmt/' "$S/patches/$BASE/$p1"
expect_fail "apply names a patch that does not apply" "patch $p1 .*does not apply in the work tree $WORK" "$S/scripts/apply.sh"
gd=$(git -C "$WORK" rev-parse --absolute-git-dir)
if [[ ! -e $gd/rebase-apply && $(git -C "$WORK" rev-parse HEAD) == "$head1" && -z $(dirty "$WORK") &&
	$(git -C "$WORK" symbolic-ref --short HEAD) == "$tag" ]]; then
	ok "after the failed apply the work tree is as before"
else
	ko "after the failed apply the work tree is as before"
fi
git -C "$S" checkout -q -- "patches/$BASE"

# Missing series, unknown base, missing package.
mv "$S/patches/$BASE/series" "$T/series"
expect_fail "apply without a series file says so" "no series file $S/patches/$BASE/series" "$S/scripts/apply.sh"
mv "$T/series" "$S/patches/$BASE/series"
expect_fail "an unknown base is named" "unknown base 'bogus'" env BASE=bogus "$S/scripts/fetch-base.sh"
expect_fail "a missing package is named with its suite" "package linux-source-0.0 not found in suite $BASE_SUITE" \
	env IOMMU_SERIES_CACHE="$T/cache" BASE_PACKAGE=linux-source-0.0 "$S/scripts/fetch-base.sh"

if [[ ${SELFTEST_KUNIT:-0} == 1 ]]; then
	if out=$("$S/scripts/kunit.sh" uml 2>&1); then
		ok "kunit.sh uml on the throwaway series: $(tail -n 1 <<<"$out")"
	else
		ko "kunit.sh uml on the throwaway series" "$out"
	fi
fi
if [[ ${SELFTEST_CHECK:-0} == 1 ]]; then
	if out=$("$S/scripts/check.sh" 2>&1); then
		ok "check.sh on the throwaway series: $(tail -n 1 <<<"$out")"
	else
		ko "check.sh on the throwaway series" "$(grep -E '^FAIL|^ {6}' <<<"$out" | head -n 40)"
	fi
	printf '%s\n' "$out" | grep -E '^(PASS|FAIL) ' | sed 's/^/   | /'
fi

# A third patch with one problem for each per-patch check: check.sh must
# report them (and only on that patch).
if [[ ${SELFTEST_BAD:-0} == 1 ]]; then
	git -C "$WORK" checkout -q "$tag"
	cat >>"$WORK/drivers/iommu/iommu.c" <<'C'

/**
 * iommu_selftest_bad - a function for the pipeline self-test
 * @n: size
 */
void *iommu_selftest_bad(size_t n)
{
	void *p;
	int unused;

	p = kmalloc(n, GFP_KERNEL);
	if (!p)
		return NULL;
	memset(p, 0, n);
	return p;
}
C
	git -C "$WORK" commit -q -a -F - <<MSG
iommu: add a bad function (selftest)

Throwaway patch of the pipeline self-test with a W=1 warning, a sparse
warning, a kernel-doc warning and a coccicheck report.

Signed-off-by: $me
MSG
	"$S/scripts/export.sh" >/dev/null 2>&1
	out=$(CHECK_KUNIT_CONFIGS='' "$S/scripts/check.sh" 2>&1) || true
	printf '%s\n' "$out" | grep -E '^(PASS|FAIL) |^ {6}' | sed 's/^/   | /'
	for c in w1 sparse kernel-doc coccicheck; do
		if grep -q -E "^FAIL \[$BASE 3/3 [^]]*\] $c" <<<"$out"; then
			ok "check.sh reports the bad patch's $c problem"
		else
			ko "check.sh reports the bad patch's $c problem"
		fi
	done
	if grep -q -E "^FAIL \[$BASE [12]/3" <<<"$out"; then
		ko "check.sh passes the two good patches" "$(grep -E "^FAIL \[$BASE [12]/3" <<<"$out")"
	else
		ok "check.sh passes the two good patches"
	fi
fi

printf '%d passed, %d failed\n' "$pass" "$fail"
((fail == 0))
exit
}
