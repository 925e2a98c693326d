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
# kernel-doc and coccicheck problem, and a W=1 problem in an arm64-only
# file (without the full-series KUnit runs).
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
	[[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/      /' | first 30
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
# The throwaway series has an identity of its own (the machine may have
# none: that case is tested below).
export GIT_AUTHOR_NAME='Pipeline Selftest' GIT_AUTHOR_EMAIL=selftest@example.org
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
me="$GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>"
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
CONFIG_PCI=y
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
	ko "export round trip is byte-stable" "$(git -C "$S" status --short; git -C "$S" diff | first 40)"
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
		ko "check.sh on the throwaway series" "$(grep -E '^FAIL|^ {6}' <<<"$out" | first 40)"
	fi
	printf '%s\n' "$out" | grep -E '^(PASS|FAIL) ' | sed 's/^/   | /'
fi

# Every error below must be said plainly and change nothing.

# No git identity: apply says so (not "does not apply").
expect_fail "apply without a git identity says so" "no committer identity" \
	env -u GIT_COMMITTER_NAME -u GIT_COMMITTER_EMAIL -u GIT_AUTHOR_NAME -u GIT_AUTHOR_EMAIL -u EMAIL \
	HOME="$T/home" XDG_CONFIG_HOME="$T/home" GIT_CONFIG_NOSYSTEM=1 IOMMU_SERIES_CACHE="$CACHE" \
	GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=user.useConfigOnly GIT_CONFIG_VALUE_0=true "$S/scripts/apply.sh"

# No network: the mirror cannot be reached (a closed port on this machine).
expect_fail "fetch without a reachable mirror says so" "cannot reach the Debian mirror http://127.0.0.1:9/debian" \
	env IOMMU_SERIES_CACHE="$T/cache" BASE_MIRROR=http://127.0.0.1:9/debian "$S/scripts/fetch-base.sh"

# export refuses uncommitted changes of patches/ (they would be lost).
echo '# hand edit' >>"$S/patches/$BASE/series"
expect_fail "export refuses uncommitted changes in patches/" "refusing to export: patches/$BASE" "$S/scripts/export.sh"
if tail -n 1 "$S/patches/$BASE/series" | grep -q '# hand edit'; then
	ok "the hand edit in patches/ is still there"
else
	ko "the hand edit in patches/ is still there"
fi
git -C "$S" checkout -q -- "patches/$BASE"

# Commits on a detached HEAD are kept by apply.
git -C "$WORK" checkout -q --detach "$tag"
echo '/* detached work */' >>"$WORK/drivers/iommu/iommu.c"
git -C "$WORK" commit -q -a -m "detached work"
det=$(git -C "$WORK" rev-parse HEAD)
if out=$("$S/scripts/apply.sh" 2>&1) && [[ -n $(git -C "$WORK" branch --list --contains "$det" 'detached-prev-*') ]]; then
	ok "apply keeps commits made on a detached HEAD (branch detached-prev-<date>)"
else
	ko "apply keeps commits made on a detached HEAD" "$out"
fi

# The check tree is reset and cleaned only when it is a scratch tree.
touch "$WORK/keep-me"
expect_fail "check-copies refuses a CHECK_WORK that is not a scratch tree" "not a scratch tree" \
	env CHECK_WORK="$WORK" "$S/scripts/check-copies.sh"
if [[ -f $WORK/keep-me ]]; then ok "the non-scratch tree kept its untracked file"; else ko "the non-scratch tree kept its untracked file"; fi
rm -f "$WORK/keep-me"

# check-copies waits for the check lock; kunit waits for the work tree lock.
waits() { # NAME LOCKFILE CMD...: CMD must wait (and say so) while LOCKFILE is held
	local name=$1 lf=$2 out rc=0
	shift 2
	mkdir -p "$(dirname "$lf")"
	exec 9>"$lf"
	flock 9
	out=$(timeout 5 "$@" 2>&1) || rc=$?
	exec 9>&-
	if ((rc == 124)) && grep -q 'waiting for another run' <<<"$out"; then
		ok "$name"
	else
		ko "$name" "status $rc: $out"
	fi
}
waits "check-copies waits for a running check (check lock)" "$CHECK_WORK.lock" "$S/scripts/check-copies.sh"
waits "make kunit waits while apply rebuilds the work tree (work tree lock)" "$WORK.lock" "$S/scripts/kunit.sh" uml

# The base drifted: the cover letter names another base-commit.
cl=$(ls "$S/patches/$BASE/"*0000-cover-letter.patch)
cp "$cl" "$T/cl.orig"
sed -i 's/^base-commit: .*/base-commit: 0123456789abcdef0123456789abcdef01234567/' "$cl"
if out=$("$S/scripts/apply.sh" 2>&1) && grep -q 'is not the one the series was exported against' <<<"$out"; then
	ok "apply says when the fetched base is not the series' base-commit"
else
	ko "apply says when the fetched base is not the series' base-commit" "$out"
fi
cp "$T/cl.orig" "$cl"

# Ctrl-C stops a run at once, with a non-zero status (kunit.py handles
# SIGINT itself and exits normally: the scripts must stop anyway).
rc=0
out=$(python3 - "$S/scripts/kunit.sh" uml <<'PY' 2>&1
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
p = subprocess.Popen(sys.argv[1:], start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
time.sleep(8)
t0 = time.time()
os.killpg(p.pid, signal.SIGINT)
try:
    out, _ = p.communicate(timeout=60)
except subprocess.TimeoutExpired:
    os.killpg(p.pid, signal.SIGKILL)
    print("still running 60 s after SIGINT")
    sys.exit(1)
print(out.decode(errors="replace")[-600:])
print("status %d after %.1f s" % (p.returncode, time.time() - t0))
sys.exit(0 if p.returncode == 130 else 1)
PY
) || rc=$?
if ((rc == 0)) && grep -q 'building in' <<<"$out" && grep -q 'interrupted (signal INT)' <<<"$out"; then
	ok "Ctrl-C stops kunit.sh during its kunit.py step with status 130 ($(tail -n 1 <<<"$out"))"
else
	ko "Ctrl-C stops kunit.sh during its kunit.py step with status 130" "$out"
fi

# b4 reads the series: the patches as mailed (a Message-Id each, headers
# unfolded: Debian's b4 0.12 rejects folded headers with the python3.11 of
# the same release) go through b4 am and give the tree git am gives.
mb=$T/b4
rm -rf "$mb"
mkdir -p "$mb/out"
i=0
for f in "$S/patches/$BASE/"*.patch; do
	awk -v id="<selftest-$i@iommu-series.localhost>" '
		function flush() { if (held != "") print held; held = "" }
		NR == 1 { print; inh = 1; next }
		inh && /^[ \t]/ { sub(/^[ \t]+/, " "); held = held $0; next }
		inh && /^$/ { flush(); print "Message-Id: " id; if (id != "<selftest-0@iommu-series.localhost>") print "In-Reply-To: <selftest-0@iommu-series.localhost>"; inh = 0; print; next }
		inh { flush(); held = $0; next }
		{ print }' "$f" >>"$mb/series.mbox"
	i=$((i + 1))
done
rc=0
(cd "$mb" && b4 -n am -m series.mbox -o out) >"$mb/log" 2>&1 || rc=$?
am=$(find "$mb/out" -name '*.mbx' | first 1)
ensure_worktree "$mb/tree" scratch 2>/dev/null
if ((rc == 0)) && [[ -n $am ]] && git -C "$mb/tree" am -q "$am" >>"$mb/log" 2>&1 &&
	[[ $(git -C "$mb/tree" rev-parse 'HEAD^{tree}') == $(git -C "$WORK" rev-parse "$tag^{tree}") ]]; then
	ok "b4 am of the mailed series gives the same tree as git am"
else
	ko "b4 am of the mailed series gives the same tree as git am" "$(tail -n 20 "$mb/log")"
fi
rm -rf "$mb"

# A third patch with one problem for each per-patch check: check.sh must
# report each (and only on that patch); then with tools that cannot run,
# each item must fail as not run.
if [[ ${SELFTEST_BAD:-1} == 1 ]]; then
	git -C "$WORK" checkout -q "$tag"
	# W=1: unused variable, no prototype; sparse: plain integer as NULL
	# pointer; kernel-doc: @src not described; checkpatch: a statement on
	# the line of its if; coccicheck: kmalloc + memcpy is kmemdup
	# (api/memdup.cocci, a rule that sorts after the first OCaml one).
	cat >>"$WORK/drivers/iommu/iommu.c" <<'C'

/**
 * iommu_selftest_bad - a function for the pipeline self-test
 * @n: size
 */
void *iommu_selftest_bad(size_t n, const void *src)
{
	void *p;
	int unused;

	p = kmalloc(n, GFP_KERNEL);
	if (!p) return 0;
	memcpy(p, src, n);
	return p;
}
C
	# W=1 in a file that only arm64 builds (cross-built in its own dir)
	cat >>"$WORK/drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c" <<'C'

void arm_smmu_selftest_bad(void)
{
	int unused_arm;
}
C
	git -C "$WORK" commit -q -a -F - <<MSG
iommu: add a bad function (selftest)

Throwaway patch of the pipeline self-test with a W=1 warning, a sparse
warning, a kernel-doc warning, a checkpatch error and a coccicheck report.

Signed-off-by: $me
MSG
	"$S/scripts/export.sh" >/dev/null 2>&1
	out=$(CHECK_UML=0 CHECK_KUNIT_CONFIGS='' "$S/scripts/check.sh" 2>&1) || true
	printf '%s\n' "$out" | grep -E '^(PASS|FAIL) |^ {6}' | sed 's/^/   | /'
	# every report-mode rule of the base must have run
	n_rules=$(git -C "$BASE_GIT" grep -l -E 'virtual[[:space:]]+report' "$BASE_TAG" -- scripts/coccinelle | wc -l)
	# CHECK|its failure (regex)|a message that must be shown under it
	for want in "w1|[0-9]+ warnings in touched files|unused variable 'unused' [-Wunused-variable]" \
		"w1|[0-9]+ warnings in touched files|no previous prototype for 'iommu_selftest_bad' [-Wmissing-prototypes]" \
		"w1|[0-9]+ warnings in touched files|unused variable 'unused_arm' [-Wunused-variable]" \
		"sparse|[0-9]+ new warnings in touched files|Using plain integer as NULL pointer" \
		"kernel-doc|[0-9]+ new warnings|function parameter 'src' not described" \
		"checkpatch|[0-9]+ messages|TRAILING_STATEMENTS" \
		"coccicheck|[0-9]+ new reports \($n_rules rules\)|WARNING opportunity for kmemdup"; do
		IFS='|' read -r c why msg <<<"$want"
		got=$(awk -v b="FAIL [$BASE 3/3 " -v c="] $c (" '
			index($0, b) == 1 && index($0, c) { on = 1; print; next }
			on && /^      / { print; next }
			{ on = 0 }' <<<"$out")
		if grep -q -E "\] $c \($why\)$" <<<"$got" && grep -q -F -- "$msg" <<<"$got"; then
			ok "check.sh fails the bad patch's $c item, showing: $msg"
		else
			ko "check.sh fails the bad patch's $c item, showing: $msg" "${got:-no such item}"
		fi
	done
	# patches 1 and 2: every item but kunit-uml (not run here) passes
	good=$(grep -E "^(PASS|FAIL) \[$BASE [12]/3 " <<<"$out" | grep -v -E "\] kunit-uml \(not run" || true)
	if [[ $(grep -c '^PASS' <<<"$good") == 12 && $(grep -c '^FAIL' <<<"$good") == 0 ]]; then
		ok "check.sh passes every item of the two good patches (12)"
	else
		ko "check.sh passes every item of the two good patches (12)" "${good:-no items}"
	fi

	# Tools that cannot run: each check fails, never passes.
	bin=$T/bin
	mkdir -p "$bin"
	printf '#!/bin/sh\necho "checkpatch: cannot run" >&2\nexit 0\n' >"$bin/checkpatch"
	printf '#!/bin/sh\necho "Traceback (most recent call last):" >&2\nexit 1\n' >"$bin/kernel-doc"
	# a spatch that cannot run a rule (and says another version, so that no
	# cached result of the real spatch is used); one failing rule among
	# others that run is in the unit tests (test_pipeline.py)
	cat >"$bin/spatch" <<'SH'
#!/bin/sh
[ "$1" = --version ] && { echo "spatch version 9.9.9 (selftest stand-in)"; exit 0; }
echo "selftest: this rule cannot run" >&2
exit 3
SH
	printf '#!/bin/sh\necho "sparse: error: cannot run" >&2\nexit 1\n' >"$bin/sparse"
	chmod +x "$bin"/*
	out=$(CHECK_UML=0 CHECK_KUNIT_CONFIGS='' CHECKPATCH="$bin/checkpatch" KERNELDOC="$bin/kernel-doc" \
		SPATCH="$bin/spatch" SPARSE="$bin/sparse" "$S/scripts/check.sh" 2>&1) || true
	for want in "checkpatch|checkpatch did not run to its end" "kernel-doc|kernel-doc did not run on" \
		"coccicheck|rules that could not run" "sparse|no sparse that this kernel accepts"; do
		IFS='|' read -r c why <<<"$want"
		if grep -q -F "] $c ($why" <<<"$(grep -E "^FAIL \[$BASE 1/3 " <<<"$out")" &&
			grep -q -F "] $c ($why" <<<"$(grep -E "^FAIL \[$BASE 3/3 " <<<"$out")"; then
			ok "a $c that cannot run fails the item: $why"
		else
			ko "a $c that cannot run fails the item: $why" "$(grep -E "\] $c" <<<"$out")"
		fi
	done
	if grep -q -E "^ +api/memdup.cocci \(spatch exit 3" <<<"$out"; then
		ok "the coccicheck rule that could not run is named"
	else
		ko "the coccicheck rule that could not run is named" "$(grep -A3 '\] coccicheck' <<<"$out" | first 8)"
	fi
fi

# check-common.sh on scratch copies of two bases: identical KUnit files
# pass, a file of one base's driver only is not compared, a changed byte or
# a missing KUnit file fails.
C=$T/common
rm -rf "$C"
mkdir -p "$C/scripts" "$C/patches/a" "$C/patches/b"
cp "$REPO"/scripts/{check-common.sh,lib.sh} "$C/scripts/"
for b in a b; do
	: >"$C/patches/$b/series"
	mkdir -p "$C/drivers-iommu/$b" "$C/include-linux/$b"
	printf 'one\n' >"$C/drivers-iommu/$b/iommu-kunit-x.c"
	printf 'compat %s\n' "$b" >"$C/drivers-iommu/$b/iommu-kunit-compat.h"
	printf 'h\n' >"$C/include-linux/$b/iommu-kunit.h"
done
mkdir -p "$C/drivers-iommu/a/amd"
printf 'a only\n' >"$C/drivers-iommu/a/amd/amd_iommu_test.c"
if out=$("$C/scripts/check-common.sh" 2>&1); then
	ok "check-common.sh passes identical KUnit files and ignores a driver's own file"
else
	ko "check-common.sh passes identical KUnit files and ignores a driver's own file" "$out"
fi
printf 'One\n' >"$C/drivers-iommu/b/iommu-kunit-x.c"
expect_fail "check-common.sh fails on a changed byte" 'FAIL common drivers-iommu/iommu-kunit-x.c: b differs' \
	"$C/scripts/check-common.sh"
printf 'one\n' >"$C/drivers-iommu/b/iommu-kunit-x.c"
rm "$C/include-linux/b/iommu-kunit.h"
expect_fail "check-common.sh fails on a KUnit file missing for a base" \
	'FAIL common include-linux/iommu-kunit.h: missing for b' "$C/scripts/check-common.sh"
rm -rf "$C"

printf '%d passed, %d failed\n' "$pass" "$fail"
((fail == 0))
exit
}
