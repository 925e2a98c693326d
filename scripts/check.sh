#!/usr/bin/env bash
# check.sh: all checks of the series of patches/<base>/, in the check work
# tree ($CACHE/<base>/check-work, scratch: the developer's work tree is not
# touched).
#
# Per patch k (bisectability: the tree at patch k):
#   apply       git am -3 of patch k on top of patches 1..k-1
#   kunit-uml   UML KUnit kernel builds, the suites that exist pass
#   w1          every touched .c file's object builds with W=1 (x86_64,
#               .config of the x86_64-debug KUnit kernel; a file under
#               drivers/iommu/arm/: arm64, cross-built, .config of the arm64
#               KUnit kernel), no warning in touched files
#   sparse      make C=2: no warning in touched files the base lacks
#   checkpatch  checkpatch.pl --strict: no message except "added, moved or
#               deleted file(s), does MAINTAINERS need updating?" and
#               UNKNOWN_COMMIT_ID (the base is a Debian source import
#               without upstream history, so no upstream id of a Fixes:
#               tag can be found in it; GIT_COMMIT_ID still checks their
#               form); its "total:" line must be there (else it did not run)
#   kernel-doc  kernel-doc -none -Wall: no warning the base file lacks
#   coccicheck  every report-mode rule of scripts/coccinelle (the count is in
#               the item) on touched .c files: no report the base file
#               lacks; a rule that cannot run fails the item, naming it
# Then, on the full series: the copies check and the KUnit configurations
# uml and x86_64-debug (CHECK_KUNIT_CONFIGS), one item per case, and arm64
# when the series touches drivers/iommu/arm/ (unless CHECK_KUNIT_CONFIGS is
# set); with x86_64-debug, the system tests (scripts/systest.sh: the same
# kernels on emulated IOMMUs, the iommufd selftest against the base's), one
# item per test.
#
# Two lanes: the build lane (this process) builds and runs the x86_64-debug
# KUnit kernel of the full series, then in the same build dir the W=1 +
# sparse objects of the base and of every patch (one make each), then the
# UML kernel of every patch in one build dir; the lint lane (a background
# job under nice) runs checkpatch, kernel-doc and coccicheck on file
# versions read from git, so it never depends on what the build lane has
# checked out.  Items are printed in patch order when both are done.
#
# Prints one PASS/FAIL line per item and "check <base>: N passed, N failed";
# writes $CACHE/<base>/results/check-items.txt and check-summary.txt.
# CHECK_UML=0 skips the UML runs (their items then fail as not run: for
# the selftest, which checks the other items).  CHECKPATCH, KERNELDOC,
# SPATCH and SPARSE name other tools (the selftest's broken ones).
# Results of W=1+sparse (by tree, objects, .config, tools) and coccicheck
# (by file content, rules, spatch) are cached in $CACHE/<base>/check-cache;
# a run that failed or did not run completely is never cached.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
load_series
warn_base_drift || true

# One check at a time per check tree (it shares build dirs and results).
lock 7 "$CHECK_WORK.lock" "the check tree $CHECK_WORK"
mkdir -p "$RESULTS"
items=$RESULTS/check-items.txt
summary=$RESULTS/check-summary.txt
rm -f "$summary"
: >"$items"
result_cache=$BASE_DIR/check-cache
OBJ=$BUILD_ROOT/check-x86_64-debug
OBJ_ARM=$BUILD_ROOT/check-arm64
UML=$BUILD_ROOT/check-uml
mkdir -p "$result_cache/objcheck" "$result_cache/coccicheck" "$BUILD_ROOT" "$CCACHE_DIR"
# What earlier versions of this script left: results cached without
# checking that the tool ran (sparse, coccicheck runs that stopped at the
# first rule needing OCaml), build dirs no longer used.
rm -rf "$result_cache/sparse" "$BUILD_ROOT/check-obj" "$BUILD_ROOT/check-obj.config" \
	"$BUILD_ROOT"/check-uml-[0-9a-f]* "$BUILD_ROOT/check-uml-none"
{ grep -r -L -Z --exclude='*.tmp' '^rules=' "$result_cache/coccicheck" || true; } | xargs -0 -r rm -f
# Results of an earlier run must not be read as this run's.
rm -f "$RESULTS"/check-*.txt "$RESULTS"/check-*.json
N=${#patches[@]}
CHECKS=(apply kunit-uml w1 sparse checkpatch kernel-doc coccicheck)
KUNIT_CONFIGS=${CHECK_KUNIT_CONFIGS-uml x86_64-debug}
CHECKPATCH=${CHECKPATCH:-scripts/checkpatch.pl}
KERNELDOC=${KERNELDOC:-scripts/kernel-doc}
[[ $KERNELDOC == /* ]] || KERNELDOC=$CHECK_WORK/$KERNELDOC
export SPATCH=${SPATCH:-spatch}
n_pass=0
n_fail=0
t_start=$(now)

work=$(mktemp -d "${TMPDIR:-/tmp}/iommu-check.XXXXXX")
lint_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[[ -z $lint_pid ]] || kill_tree "$lint_pid"
	rm -rf "$work"
}
trap cleanup EXIT
R=$work/items # one file per item: R/K.CHECK, first line "PASS|FAIL detail"
mkdir -p "$R"

# put K CHECK PASS|FAIL [DETAIL]: record an item; detail lines on stdin
# when DETAIL_STDIN=1.
put() {
	local f=$R/$1.$2
	{
		printf '%s%s\n' "$3" "${4:+ ($4)}"
		[[ ${DETAIL_STDIN:-0} == 0 ]] || sed -n '1,30s/^/      /p'
	} >"$f.tmp"
	mv "$f.tmp" "$f"
}
# putd: put with detail lines from stdin
putd() { DETAIL_STDIN=1 put "$@"; }
# item PASS|FAIL LABEL CHECK [DETAIL]: print and count an item
# The items also go to results/check-items.ktap (KTAP: one test per item,
# "ok N label check # detail"), for any TAP reader.
ktap_lines=()
ktap() { # PASS|FAIL NAME [DETAIL]
	local st=ok name=${2//#/}
	[[ $1 == PASS ]] || st='not ok'
	ktap_lines+=("$st $((${#ktap_lines[@]} + 1)) $name${3:+ # ${3//#/}}")
}
item() {
	local line="$1 $2 $3"
	[[ -z ${4:-} ]] || line+=" ($4)"
	printf '%s\n' "$line" | tee -a "$items"
	ktap "$1" "$2 $3" "${4:-}"
	if [[ $1 == PASS ]]; then n_pass=$((n_pass + 1)); else n_fail=$((n_fail + 1)); fi
}
cw() { git -C "$CHECK_WORK" "$@"; }
label() {
	printf '[%s %0*d/%d %s]' "$BASE" "${#N}" "$1" "$N" "$(basename "${patches[$1 - 1]}")"
}
hash_of() {
	printf '%s\n' "$@" | sha1sum | cut -c1-40
}

# make in the x86_64 build dir of the check tree, with messages in the C
# locale (plain quotes; the kernel's Makefile unexports LC_ALL, so LANG and
# LC_CTYPE are set too).
# shellcheck disable=SC2317 # called through objcheck_arch's $mk
kmake() {
	LANG=C LC_CTYPE=C LC_MESSAGES=C LC_ALL=C make -C "$CHECK_WORK" O="$OBJ" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" -s "$@"
}
# The same for arm64, cross-built in the arm64 build dir.
# shellcheck disable=SC2317 # called through objcheck_arch's $mk
kmake_arm64() {
	LANG=C LC_CTYPE=C LC_MESSAGES=C LC_ALL=C make -C "$CHECK_WORK" O="$OBJ_ARM" ARCH=arm64 \
		CROSS_COMPILE=aarch64-linux-gnu- CC="ccache aarch64-linux-gnu-gcc" -j"$JOBS" -s "$@"
}
# Files whose objects only an arm64 kernel builds.
is_arm64_file() { [[ $1 == drivers/iommu/arm/* ]]; }
# .c files that are no kernel object: user-space programs (the selftests
# under tools/, built and run by scripts/systest.sh) and host tools.
is_kernel_c() { [[ $1 == *.c && $1 != tools/* && $1 != scripts/* ]]; }

# strip_src: drop the check tree's path from tool output, so that cached
# results do not depend on where the tree was.
strip_src() {
	awk -v src="$CHECK_WORK/" '{
		line = $0
		while ((p = index(line, src)) > 0)
			line = substr(line, 1, p - 1) substr(line, p + length(src))
		print line
	}'
}

# diag FILE...: read compiler/sparse/kernel-doc/coccicheck messages on stdin,
# keep those about the given files (paths relative to the tree) and print
# them as "file: message", without line and column numbers (so that a
# moved line is not a new warning).  Sorted, duplicates kept.
diag() {
	strip_src | awk -v files="$*" '
		BEGIN { n = split(files, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		{
			line = $0
			sub(/^Warning: /, "", line)
			if (!match(line, /^[^: ]+:[0-9]+(:[0-9]+)?(-[0-9]+)?:? /)) next
			file = line; sub(/:.*/, "", file)
			if (!(file in want)) next
			msg = substr(line, RLENGTH + 1)
			print file ": " msg
		}' | LC_ALL=C sort
}

# new_lines BASEFILE NEWFILE: lines of NEWFILE not in BASEFILE (multiset).
new_lines() {
	LC_ALL=C comm -13 "$1" "$2"
}

# cache_put FILE: write stdin to the cache file FILE atomically (a temporary
# file of its own, then rename), or not at all.
cache_put() {
	local tmp
	tmp=$(mktemp "$1.XXXXXX.tmp") || return 1
	if cat >"$tmp" && mv -f "$tmp" "$1"; then
		return 0
	fi
	rm -f "$tmp"
	return 1
}

# shows NEWFILE RAW: the lines of the RAW tool output that produced the
# diag lines of NEWFILE, with their line numbers (for the reader; the
# comparison with the base is made without them).
shows() {
	local new=$1 raw=$2 l f msg hit
	while IFS= read -r l; do
		f=${l%%: *}
		msg=${l#*: }
		hit=$(strip_src <"$raw" | grep -F -- "$msg" | grep -F -- "$f" | first 2 || true)
		printf '%s\n' "${hit:-$l}"
	done <"$new" | awk '!seen[$0]++'
}

# ---------------------------------------------------------------------------
# The lint lane: checkpatch, kernel-doc, coccicheck.  Reads every file from
# git (never the checked-out tree), so it runs beside the build lane.

# kdoc_blob COMMIT PATH OUT: kernel-doc -none -Wall of PATH at COMMIT (empty
# when it does not exist there) into OUT; status 1 when kernel-doc did not
# run (a crash), with its output in OUT.
kdoc_blob() {
	local c=$1 f=$2 out=$3 d rc=0
	: >"$out"
	cw cat-file -e "$c:$f" 2>/dev/null || return 0
	d=$work/kd/$c
	mkdir -p "$d/$(dirname "$f")" || return 1
	cw show "$c:$f" >"$d/$f" || { echo "git show $c:$f failed" >"$out"; return 1; }
	(cd "$d" && "$KERNELDOC" -none -Wall "$f") >"$out" 2>&1 || rc=$?
	if ((rc != 0)) || grep -q -E '^Traceback|^Can.t locate|syntax error' "$out"; then
		return 1
	fi
}

lint_checkpatch() {
	local k=$1 p=${patches[$1 - 1]} out=$work/cp.$1 rc=0
	# The python scripts checkpatch runs (spdxcheck.py) need Debian's
	# python3 modules, so Debian's python3 comes first in PATH.
	(cd "$CHECK_WORK" && PATH=/usr/bin:$PATH "$CHECKPATCH" --strict --emacs --show-types "$p") >"$out" 2>&1 || rc=$?
	grep -E ': (ERROR|WARNING|CHECK):' "$out" |
		grep -v -F -e 'added, moved or deleted file(s), does MAINTAINERS need updating?' \
			-e ':UNKNOWN_COMMIT_ID: ' >"$out.bad" || true
	if grep -q -E 'Traceback|^Can.t locate' "$out"; then
		# A helper of checkpatch (spdxcheck.py) crashed: a check was skipped.
		grep -E 'Error|Traceback|locate' "$out" | sed 's/^/checkpatch problem: /' >>"$out.bad"
	fi
	if ! grep -q -E '^total: [0-9]+ errors, [0-9]+ warnings, ([0-9]+ checks, )?[0-9]+ lines checked' "$out"; then
		putd "$k" checkpatch FAIL "checkpatch did not run to its end (no 'total:' line; exit $rc)" <"$out"
	elif [[ -s $out.bad ]]; then
		sed -e "s#^$p:#line #" "$out.bad" | putd "$k" checkpatch FAIL "$(wc -l <"$out.bad") messages"
	else
		put "$k" checkpatch PASS
	fi
}

lint_kerneldoc() {
	local k=$1 c=${commits[$1 - 1]} f bad=() nk
	: >"$work/kd-new.$k"
	: >"$work/kd.raw.$k"
	for f in "${srcfiles[@]}"; do
		kdoc_blob "$c" "$f" "$work/kd.now" || bad+=("$f")
		cat "$work/kd.now" >>"$work/kd.raw.$k"
		kdoc_blob "$BASE_TAG" "$f" "$work/kd.base" || bad+=("$f (base)")
		diag "$f" <"$work/kd.now" >"$work/kd.now.d"
		diag "$f" <"$work/kd.base" >"$work/kd.base.d"
		new_lines "$work/kd.base.d" "$work/kd.now.d" >>"$work/kd-new.$k"
	done
	nk=$(wc -l <"$work/kd-new.$k")
	if ((${#bad[@]})); then
		tail -n 10 "$work/kd.now" | putd "$k" kernel-doc FAIL "kernel-doc did not run on: ${bad[*]}"
	elif ((nk == 0)); then
		put "$k" kernel-doc PASS "${#srcfiles[@]} files"
	else
		shows "$work/kd-new.$k" "$work/kd.raw.$k" | putd "$k" kernel-doc FAIL "$nk new warnings"
	fi
}

# Coccicheck of every (commit, .c file) needed: the base version and the
# version at each patch of every .c file a patch touches.  One spatch per
# rule over all the versions not in the cache (cocci_run.py); results cached
# by (blob, path, rules, spatch) only when every rule ran.
cocci_key() {
	hash_of cocci-3 "$(cw rev-parse "$1:$2")" "$2" "$(cw rev-parse "$BASE_TAG:scripts/coccinelle")" \
		"$(cw rev-parse "$last:include")" "$(cw rev-parse "$last:arch/x86/include")" \
		"$("$SPATCH" --version 2>&1 | first 1)" "$(sha1sum <"$REPO/scripts/cocci_run.py")"
}
lint_cocci_all() {
	local k c f key in=$work/cocci-in out=$work/cocci-out todo=0 rc=0
	mkdir -p "$in" "$out"
	# versions: base of every touched .c, and each patch's touched .c
	: >"$work/cocci-versions"
	while IFS= read -r f; do
		[[ $f == *.c ]] || continue
		! cw cat-file -e "$BASE_TAG:$f" 2>/dev/null || printf '%s %s\n' "$BASE_TAG" "$f" >>"$work/cocci-versions"
	done <"$work/all-touched"
	for ((k = 1; k <= applied; k++)); do
		while IFS= read -r f; do
			[[ $f == *.c ]] && printf '%s %s\n' "${commits[k - 1]}" "$f" >>"$work/cocci-versions"
		done <"$work/touched.$k"
	done
	while read -r c f; do
		key=$(cocci_key "$c" "$f")
		printf '%s %s %s\n' "$c" "$f" "$key" >>"$work/cocci-keys"
		if [[ ! -f $result_cache/coccicheck/$key && ! -d $in/$key ]]; then
			mkdir -p "$in/$key/$(dirname "$f")"
			cw show "$c:$f" >"$in/$key/$f"
			todo=$((todo + 1))
		fi
	done <"$work/cocci-versions"
	: >"$work/cocci-status"
	if ((todo > 0)); then
		info "coccicheck: every rule over $todo file versions"
		# The include dirs are those of the full series (rules that parse
		# headers see the series' headers).
		mkdir -p "$work/cocci-tree"
		cw archive "$last" scripts/coccinelle include arch/x86/include | tar -x -C "$work/cocci-tree"
		local t0
		t0=$(now)
		python3 "$REPO/scripts/cocci_run.py" --tree "$work/cocci-tree" --inputs "$in" --out "$out" \
			>"$work/cocci.log" 2>&1 || rc=$?
		info "coccicheck: $(head -n 1 "$out/status" 2>/dev/null) over $todo file versions in $(($(now) - t0)) s (status $rc)"
		cp "$out/status" "$work/cocci-status" 2>/dev/null || echo "failed=cocci_run.py (exit $rc, no status)" >"$work/cocci-status"
		if ((rc == 0)); then
			for key in "$in"/*; do
				key=${key##*/}
				cache_put "$result_cache/coccicheck/$key" < <(first 1 <"$out/status"; cat "$out/$key.txt")
			done
		fi
	fi
}
# cocci_result COMMIT PATH: the reports of that version (from the cache or
# this run); status 1 when it has none (its run failed).
cocci_result() {
	local key
	key=$(awk -v c="$1" -v f="$2" '$1 == c && $2 == f { print $3; exit }' "$work/cocci-keys")
	if [[ -f $result_cache/coccicheck/$key ]]; then
		tail -n +2 "$result_cache/coccicheck/$key"
	elif [[ -f $work/cocci-out/$key.txt ]] && ! grep -q '^failed=' "$work/cocci-status"; then
		cat "$work/cocci-out/$key.txt"
	else
		return 1
	fi
}
cocci_rules_of() {
	local key
	key=$(awk -v c="$1" -v f="$2" '$1 == c && $2 == f { print $3; exit }' "$work/cocci-keys")
	sed -n 's/^rules=//p' "$result_cache/coccicheck/$key" "$work/cocci-status" 2>/dev/null | first 1
}
lint_coccicheck() {
	local k=$1 c=${commits[$1 - 1]} f nc rules
	mapfile -t cfiles < <(grep -E '\.c$' "$work/touched.$k" || true)
	if ((${#cfiles[@]} == 0)); then
		put "$k" coccicheck PASS "no .c file touched"
		return
	fi
	if grep -q '^failed=' "$work/cocci-status"; then
		sed -n 's/^failed=//p' "$work/cocci-status" |
			putd "$k" coccicheck FAIL "rules that could not run (the check did not run completely)"
		return
	fi
	: >"$work/cc-new.$k"
	: >"$work/cc.raw.$k"
	for f in "${cfiles[@]}"; do
		cocci_result "$c" "$f" >"$work/cc.now" || { put "$k" coccicheck FAIL "no coccicheck result for $f"; return; }
		cat "$work/cc.now" >>"$work/cc.raw.$k"
		: >"$work/cc.base"
		! cw cat-file -e "$BASE_TAG:$f" 2>/dev/null || cocci_result "$BASE_TAG" "$f" >"$work/cc.base" ||
			{ put "$k" coccicheck FAIL "no coccicheck result for the base $f"; return; }
		rules=$(cocci_rules_of "$c" "$f")
		diag "$f" <"$work/cc.now" >"$work/cc.now.d"
		diag "$f" <"$work/cc.base" >"$work/cc.base.d"
		new_lines "$work/cc.base.d" "$work/cc.now.d" >>"$work/cc-new.$k"
	done
	nc=$(wc -l <"$work/cc-new.$k")
	if ((nc == 0)); then
		put "$k" coccicheck PASS "${#cfiles[@]} files, $rules rules"
	else
		shows "$work/cc-new.$k" "$work/cc.raw.$k" | putd "$k" coccicheck FAIL "$nc new reports ($rules rules)"
	fi
}

lint_lane() {
	local k f t0 cocci_pid
	t0=$(now)
	# coccicheck (cocci_run.py runs its rules on every core) beside
	# checkpatch and kernel-doc
	lint_cocci_all &
	cocci_pid=$!
	for ((k = 1; k <= applied; k++)); do
		lint_checkpatch "$k"
		srcfiles=()
		while IFS= read -r f; do
			[[ $f == *.c || $f == *.h ]] && srcfiles+=("$f")
		done <"$work/touched.$k"
		lint_kerneldoc "$k"
	done
	info "checkpatch and kernel-doc of $applied patches: $(($(now) - t0)) s"
	wait "$cocci_pid" || info "the coccicheck step stopped with status $? (its items fail)"
	for ((k = 1; k <= applied; k++)); do
		lint_coccicheck "$k"
	done
}

# ---------------------------------------------------------------------------
info "checking $N patches of $PATCH_DIR on $BASE ($BASE_PACKAGE $(base_version)) in $CHECK_WORK"
applied=0
if series_into_check_tree "${patches[@]}"; then :; fi
applied=$SERIES_APPLIED
commits=("${SERIES_COMMITS[@]}")
if ((applied == 0)); then
	last=$(cw rev-parse "$BASE_TAG^{commit}")
else
	last=${commits[applied - 1]}
fi

# Files touched by patch k (not deleted).
for ((k = 1; k <= applied; k++)); do
	cw diff --no-renames --name-only --diff-filter=d "${commits[k - 1]}~1" "${commits[k - 1]}" >"$work/touched.$k"
done
for ((k = 1; k <= applied; k++)); do cat "$work/touched.$k"; done | LC_ALL=C sort -u >"$work/all-touched"

lint_log=$RESULTS/check-lint.log
if ((applied > 0)); then
	(trap - INT TERM; lint_lane) >"$lint_log" 2>&1 7>&- &
	lint_pid=$!
	renice -n 10 -p "$lint_pid" >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------------------
# The build lane.  1. The x86_64-debug KUnit kernel of the full series, in
# the build dir that then serves the W=1 + sparse objects.
cw checkout -q --detach "$last"
declare -A kunit_rc
run_kunit() { # CONFIG BUILD_DIR RESULT_NAME
	local rc=0
	KUNIT_BUILD_DIR=$2 RESULT_NAME=$3 "$REPO/scripts/kunit.sh" "$1" "$CHECK_WORK" >"$work/kunit.$3" 2>&1 || rc=$?
	kunit_rc[$3]=$rc
}
if ((applied == N)) && [[ " $KUNIT_CONFIGS " == *" x86_64-debug "* ]]; then
	info "x86_64-debug: KUnit kernel of the full series (also the W=1/sparse build dir)"
	run_kunit x86_64-debug "$OBJ" check-x86_64-debug
fi
# A series touching files that only arm64 builds (arm-smmu-v3) gets the
# arm64 KUnit kernel too, whose build dir then serves their objects.
need_arm64=0
while IFS= read -r f; do
	[[ $f == *.c ]] && is_arm64_file "$f" && need_arm64=1
done <"$work/all-touched"
if ((need_arm64)) && [[ -z ${CHECK_KUNIT_CONFIGS+set} && " $KUNIT_CONFIGS " != *" arm64 "* ]]; then
	KUNIT_CONFIGS+=" arm64"
fi
if ((applied == N && need_arm64)) && [[ " $KUNIT_CONFIGS " == *" arm64 "* ]]; then
	info "arm64: KUnit kernel of the full series (also the arm64 W=1/sparse build dir)"
	run_kunit arm64 "$OBJ_ARM" check-arm64
fi

# 1b. The system tests (scripts/systest.sh): the kernels just built booted
# on emulated IOMMUs, and the iommufd selftest on the base kernel (built
# here once per base commit) against the series'.  Their items are counted
# with those of the full series below.  CHECK_SYSTEST=0 leaves them out.
systest_ran=0
if ((applied == N)) && [[ " $KUNIT_CONFIGS " == *" x86_64-debug "* && ${CHECK_SYSTEST:-1} == 1 ]]; then
	info "systest: the system tests (output $RESULTS/systest.out)"
	# (in the background and waited for: a signal to check.sh alone is
	# taken at once, and its trap stops systest.sh with it)
	SYSTEST_PREPARED=1 "$REPO/scripts/systest.sh" >"$RESULTS/systest.out" 2>"$RESULTS/systest.err" 7>&- &
	wait "$!" || true
	systest_ran=1
	cw checkout -q -f --detach "$last"
fi

# 2. W=1 + sparse: one make per tree (base, then each patch) of the
# touched objects, with the .config of the x86_64-debug kernel.
config_ok=1
if [[ -z ${kunit_rc[check-x86_64-debug]:-} ]]; then
	kc=()
	add_repo_kunitconfigs kc x86_64-debug
	add_tree_kunitconfigs kc x86_64-debug "$CHECK_WORK"
	[[ -f $CHECK_WORK/drivers/iommu/.kunitconfig ]] && kc+=(--kunitconfig="$CHECK_WORK/drivers/iommu/.kunitconfig")
	(cd "$CHECK_WORK" && kunit_py "$CHECK_WORK" config --arch=x86_64 --build_dir="$OBJ" \
		"${kc[@]}" --make_options="CC=ccache gcc") >"$RESULTS/check-obj-config.log" 2>&1 || config_ok=0
fi
if ((config_ok)); then
	# Warnings must stay warnings (counted below), not stop the build.
	if grep -q '^CONFIG_WERROR=y' "$OBJ/.config"; then
		info "CONFIG_WERROR is set in $OBJ/.config: W=1 warnings would stop the build"
		config_ok=0
	fi
	cp "$OBJ/.config" "$OBJ.config"
	config_hash=$(sha1sum <"$OBJ.config" | cut -c1-40)
else
	config_hash=none
	info "kunit.py config --arch=x86_64 failed (see $RESULTS/check-obj-config.log)"
fi
config_ok_arm=0
config_hash_arm=none
if ((need_arm64)); then
	config_ok_arm=1
	if [[ -z ${kunit_rc[check-arm64]:-} ]]; then
		kc=()
		add_repo_kunitconfigs kc arm64
		add_tree_kunitconfigs kc arm64 "$CHECK_WORK"
		[[ -f $CHECK_WORK/drivers/iommu/.kunitconfig ]] && kc+=(--kunitconfig="$CHECK_WORK/drivers/iommu/.kunitconfig")
		(cd "$CHECK_WORK" && kunit_py "$CHECK_WORK" config --arch=arm64 --cross_compile=aarch64-linux-gnu- \
			--build_dir="$OBJ_ARM" "${kc[@]}" --make_options="CC=ccache aarch64-linux-gnu-gcc") \
			>"$RESULTS/check-obj-arm64-config.log" 2>&1 || config_ok_arm=0
	fi
	if ((config_ok_arm)) && [[ -f $OBJ_ARM/.config ]] && ! grep -q '^CONFIG_WERROR=y' "$OBJ_ARM/.config"; then
		cp "$OBJ_ARM/.config" "$OBJ_ARM.config"
		config_hash_arm=$(sha1sum <"$OBJ_ARM.config" | cut -c1-40)
	else
		config_ok_arm=0
		info "no arm64 .config for the W=1/sparse objects (see $RESULTS/check-obj-arm64-config.log)"
	fi
fi

# A sparse the tree accepts (bookworm's 0.6.4 is too old for v7.3).
if sparse_bin=$(ensure_sparse "$CHECK_WORK"); then
	sparse_from=installed
	[[ $sparse_bin != "$CACHE"/tools/* ]] || sparse_from="built from $(cat "$CACHE/tools/sparse/source" 2>/dev/null)"
	info "sparse: $sparse_bin ($("$sparse_bin" --version), $sparse_from)"
else
	sparse_bin=
fi

# objcheck_arch ARCH OUT C...: make W=1 C=2 of the objects of the .c files
# C in the checked-out tree, for ARCH (x86_64 or arm64: build dir and .config
# of its KUnit kernel), raw output (check tree path stripped) in OUT; cached
# by (tree, objects, arch, .config, sparse, gcc).  Status 1 when make failed
# or an object was not built, 2 when it built but sparse did not run;
# neither is cached.  Every step is checked (callers run it with set -e off).
objcheck_arch() {
	local arch=$1 out=$2 key f rc=0 c o objs=() dir=$OBJ chash=$config_hash mk=kmake cc=gcc
	shift 2
	if [[ $arch == arm64 ]]; then
		dir=$OBJ_ARM chash=$config_hash_arm mk=kmake_arm64 cc=aarch64-linux-gnu-gcc
	fi
	for c in "$@"; do objs+=("${c%.c}.o"); done
	key=$(hash_of objcheck-4 "$(cw rev-parse 'HEAD^{tree}')" "$arch" "${objs[@]}" "$chash" \
		"${sparse_bin:+$("$sparse_bin" --version)}" "$("$cc" --version | first 1)") || return 1
	f=$result_cache/objcheck/$key
	if [[ -f $f ]]; then
		cp "$f" "$out" || return 1
		return 0
	fi
	local chk=()
	[[ -z $sparse_bin ]] || chk=(C=2 CHECK="$sparse_bin")
	cp "$dir.config" "$dir/.config" || return 1
	(cd "$dir" && rm -f "${objs[@]}") || return 1
	"$mk" W=1 "${chk[@]}" "${objs[@]}" >"$out.raw" 2>&1 || rc=$?
	strip_src <"$out.raw" >"$out" || return 1
	for o in "${objs[@]}"; do
		[[ -f $dir/$o ]] || { echo "make: $o was not built: not enabled by the $arch .config?" >>"$out"; rc=1; }
	done
	((rc == 0)) || return 1
	# The kernel's Makefile silently skips a sparse it does not accept.
	if [[ -z $sparse_bin ]] || grep -q 'specified, but .* is not available or not up to date' "$out"; then
		return 2
	fi
	cache_put "$f" <"$out" || return 1
}
# objcheck OUT C...: objcheck_arch for each architecture the files C need
# (arm64 for is_arm64_file, x86_64 for the others), the outputs
# concatenated in OUT; the worst status (1 before 2 before 0).
objcheck() {
	local out=$1 c rc=0 r x86=() arm=()
	shift
	for c in "$@"; do
		if is_arm64_file "$c"; then arm+=("$c"); else x86+=("$c"); fi
	done
	: >"$out"
	if ((${#x86[@]})); then
		r=0
		objcheck_arch x86_64 "$out.x86" "${x86[@]}" || r=$?
		cat "$out.x86" >>"$out" 2>/dev/null
		rc=$r
	fi
	if ((${#arm[@]})); then
		r=0
		objcheck_arch arm64 "$out.arm" "${arm[@]}" || r=$?
		cat "$out.arm" >>"$out" 2>/dev/null
		((rc == 1 || r == 0)) || rc=$r
	fi
	return "$rc"
}
# Output classes of make W=1 C=2: gcc (file:line:col: ... [-Wname]),
# sparse (file:line:col: without [-W]), kernel-doc (file:line: warning:
# without a column; its "Warning: file:line" lines of -Wall checks are the
# kernel-doc item's, compared with the base there).
gcc_lines() { grep -E '^[^: ]+:[0-9]+:[0-9]+: (warning|error): .*\[-W[^]]*\]$' || true; }
sparse_lines() { grep -E '^[^: ]+:[0-9]+:[0-9]+: (warning|error): ' | grep -v -E '\[-W[^]]*\]$' || true; }
kdoc_lines() { grep -E '^[^: ]+:[0-9]+: (warning|error): ' || true; }

if ((applied > 0)); then
	cw checkout -q --detach "$BASE_TAG"
	mapfile -t base_c < <(while IFS= read -r f; do
		is_kernel_c "$f" && cw cat-file -e "HEAD:$f" 2>/dev/null && printf '%s\n' "$f"
	done <"$work/all-touched")
	base_obj=ok
	for f in "${base_c[@]}"; do
		! is_arm64_file "$f" || ((config_ok_arm)) || base_obj="no arm64 .config for the base objects"
	done
	if [[ $base_obj == ok ]] && ((config_ok)) && [[ -n $sparse_bin ]] && ((${#base_c[@]})); then
		info "W=1 + sparse: the base (${#base_c[@]} objects)"
		rc=0
		objcheck "$work/obj.base" "${base_c[@]}" || rc=$?
		((rc != 2)) || base_obj="make C=2 did not run sparse at the base"
		((rc != 1)) || base_obj="the base objects do not build (see $work/obj.base)"
	fi
fi
for ((k = 1; k <= applied; k++)); do
	cfiles=()
	while IFS= read -r f; do
		! is_kernel_c "$f" || cfiles+=("$f")
	done <"$work/touched.$k"
	mapfile -t srcfiles < <(grep -E '\.[ch]$' "$work/touched.$k" || true)
	if ((${#cfiles[@]} == 0)); then
		nu=$(grep -c -E '^(tools|scripts)/.*\.c$' "$work/touched.$k" || true)
		note=
		((nu == 0)) || note=" ($nu user-space .c files, no kernel object: the system tests build the selftests)"
		put "$k" w1 PASS "no kernel .c file touched$note"
		put "$k" sparse PASS "no kernel .c file touched$note"
		continue
	elif ((config_ok == 0)); then
		put "$k" w1 FAIL "no x86_64 .config, see $RESULTS/check-obj-config.log"
		put "$k" sparse FAIL "no x86_64 .config"
		continue
	fi
	n_arm=0
	for f in "${cfiles[@]}"; do ! is_arm64_file "$f" || n_arm=$((n_arm + 1)); done
	if ((n_arm > 0 && config_ok_arm == 0)); then
		put "$k" w1 FAIL "no arm64 .config for $n_arm objects, see $RESULTS/check-obj-arm64-config.log"
		put "$k" sparse FAIL "no arm64 .config"
		continue
	elif [[ -z $sparse_bin ]]; then
		put "$k" sparse FAIL "no sparse that this kernel accepts (see the log above)"
	fi
	cw checkout -q --detach "${commits[k - 1]}"
	info "W=1 + sparse: patch $k/$N (${#cfiles[@]} objects)"
	rc=0
	: >"$work/obj.$k"
	objcheck "$work/obj.$k" "${cfiles[@]}" || rc=$?
	gcc_lines <"$work/obj.$k" | diag "${srcfiles[@]}" >"$work/w1.$k"
	kdoc_lines <"$work/obj.$k" | diag "${srcfiles[@]}" >>"$work/w1.$k"
	nw=$(wc -l <"$work/w1.$k")
	if ((rc == 1)); then
		grep -E -i 'error|not built' "$work/obj.$k" | putd "$k" w1 FAIL "the objects do not build ($nw warnings)"
		[[ -z $sparse_bin ]] || put "$k" sparse FAIL "not run: the objects do not build"
		continue
	elif ((nw == 0)); then
		arm_note=
		((n_arm == 0)) || arm_note=", $n_arm of them arm64"
		put "$k" w1 PASS "${#cfiles[@]} objects$arm_note, no warning"
	else
		shows "$work/w1.$k" "$work/obj.$k" | putd "$k" w1 FAIL "$nw warnings in touched files"
	fi
	[[ -n $sparse_bin ]] || continue
	if ((rc == 2)); then
		put "$k" sparse FAIL "make C=2 did not run sparse"
		continue
	elif [[ $base_obj != ok ]]; then
		put "$k" sparse FAIL "$base_obj"
		continue
	fi
	sparse_lines <"$work/obj.$k" | diag "${srcfiles[@]}" >"$work/sp.now"
	: >"$work/sp.base"
	[[ ! -f $work/obj.base ]] || sparse_lines <"$work/obj.base" | diag "${srcfiles[@]}" >"$work/sp.base"
	new_lines "$work/sp.base" "$work/sp.now" >"$work/sparse-new.$k"
	ns=$(wc -l <"$work/sparse-new.$k")
	if ((ns == 0)); then
		put "$k" sparse PASS
	else
		shows "$work/sparse-new.$k" "$work/obj.$k" | putd "$k" sparse FAIL "$ns new warnings in touched files"
	fi
done
# Leave the build dirs with the full series' .config for the next build.
[[ ! -f $OBJ.config ]] || cp "$OBJ.config" "$OBJ/.config"
[[ ! -f $OBJ_ARM.config ]] || cp "$OBJ_ARM.config" "$OBJ_ARM/.config"

# 3. UML KUnit of every patch, in one build dir (a changed .kunitconfig
# regenerates the .config there and kbuild rebuilds what depends on it).  A
# patch none of whose files the UML kernel of the patch before is built
# from (nor a Kconfig, Makefile or .kunitconfig) gives that same kernel:
# its result is the one before.
uml_uses() { # FILE: is FILE a source or dependency of the UML build?
	case $1 in
	*Kconfig* | *Makefile* | *Kbuild* | *.kunitconfig | tools/testing/kunit/*) return 0 ;;
	esac
	grep -r -q -F --include='*.cmd' -- "$check_work_real/$1" "$UML" 2>/dev/null
}
# kbuild writes the resolved path of the source tree into its .cmd files
check_work_real=$(cd "$CHECK_WORK" && pwd -P)
prev_uml=
declare -a uml_of # uml_of[k]: the patch whose UML kernel patch k has
for ((k = 1; k <= applied; k++)); do
	if [[ ${CHECK_UML:-1} == 0 ]]; then
		put "$k" kunit-uml FAIL "not run (CHECK_UML=0)"
		continue
	fi
	same=1
	[[ -n $prev_uml ]] || same=0
	while IFS= read -r f; do
		((same)) || break
		! uml_uses "$f" || same=0
	done <"$work/touched.$k"
	if ((same)); then
		info "kunit-uml: patch $k/$N touches nothing the UML kernel is built from: same kernel as patch $prev_uml"
		{ head -n 1 "$R/$prev_uml.kunit-uml" | sed -E "s/^(PASS|FAIL)( \((.*)\))?$/\1 (same UML kernel as patch $prev_uml: \3)/"; } >"$R/$k.kunit-uml"
		uml_of[k]=$prev_uml
		continue
	fi
	cw checkout -q --detach "${commits[k - 1]}"
	info "kunit-uml: patch $k/$N"
	run_kunit uml "$UML" "check-uml-p$k"
	if [[ ${kunit_rc[check-uml-p$k]} == 0 ]]; then
		put "$k" kunit-uml PASS "$(tail -n 1 "$work/kunit.check-uml-p$k")"
	else
		tail -n 25 "$work/kunit.check-uml-p$k" | putd "$k" kunit-uml FAIL "$(tail -n 1 "$work/kunit.check-uml-p$k")"
	fi
	uml_of[k]=$k
	prev_uml=$k
done
cw checkout -q --detach "$last"

# ---------------------------------------------------------------------------
# Wait for the lint lane.
if [[ -n $lint_pid ]]; then
	info "waiting for the lint lane (checkpatch, kernel-doc, coccicheck; log $lint_log)"
	lint_rc=0
	wait "$lint_pid" || lint_rc=$?
	lint_pid=
	((lint_rc == 0)) || info "the lint lane stopped with status $lint_rc (see $lint_log)"
fi

# Print the items in patch order.
for ((k = 1; k <= N; k++)); do
	L=$(label "$k")
	if ((k > applied)); then
		if ((k == applied + 1)); then
			item FAIL "$L" apply "git am -3 failed on top of patches 1..$((k - 1)); check work tree $CHECK_WORK"
		else
			item FAIL "$L" apply "an earlier patch did not apply"
		fi
		for c in "${CHECKS[@]:1}"; do item FAIL "$L" "$c" "not applied"; done
		continue
	fi
	item PASS "$L" apply
	for c in "${CHECKS[@]:1}"; do
		f=$R/$k.$c
		if [[ ! -f $f ]]; then
			item FAIL "$L" "$c" "the check did not run (no result; see $lint_log)"
			continue
		fi
		read -r st detail <"$f"
		detail=${detail#(}
		item "$st" "$L" "$c" "${detail%)}"
		tail -n +2 "$f"
	done
done

# ---------------------------------------------------------------------------
# The full series.
if ((applied < N)); then
	item FAIL "[$BASE]" copies "the series does not apply"
elif out=$(compare_copies "$CHECK_WORK" "$last"); then
	item PASS "[$BASE]" copies "drivers-iommu/ and include-linux/ match the series"
else
	item FAIL "[$BASE]" copies "$(wc -l <<<"$out") files differ; run make export"
	printf '%s\n' "$out" | sed -e 's/^/      /'
fi

kunit_pass=0
kunit_fail=0
for config in $KUNIT_CONFIGS; do
	if ((applied < N)); then
		item FAIL "[$BASE]" "kunit-$config" "the series does not apply"
		continue
	fi
	name=check-$config
	case $config in
	uml)
		# The UML kernel of the last patch is the full series' one.
		name=check-uml-p${uml_of[N]:-$N}
		;;
	x86_64-debug) ;;
	arm64) ((need_arm64)) || run_kunit "$config" "$OBJ_ARM" "$name" ;;
	*) run_kunit "$config" "$BUILD_ROOT/check-$config" "$name" ;;
	esac
	r=$RESULTS/$name.txt
	if [[ ! -f $r ]]; then
		item FAIL "[$BASE]" "kunit-$config" "kunit.sh wrote no result"
		tail -n 25 "$work/kunit.$name" 2>/dev/null | sed -e 's/^/      /'
		continue
	fi
	p=$(result_get "$r" passed)
	f=$(($(result_get "$r" failed) + $(result_get "$r" crashed) + $(result_get "$r" extra_failed)))
	kunit_pass=$((kunit_pass + p))
	kunit_fail=$((kunit_fail + f))
	n_pass=$((n_pass + p))
	n_fail=$((n_fail + f))
	st=PASS
	[[ $(result_get "$r" status) == ok && $f == 0 ]] || st=FAIL
	printf '%s %s kunit-%s %s\n' "$st" "[$BASE]" "$config" "$(tail -n 1 "$work/kunit.$name" 2>/dev/null)" | tee -a "$items"
	ktap "$st" "[$BASE] kunit-$config" "$p passed, $f failed; the cases: $RESULTS/$name.log (KTAP)"
	if [[ $st == FAIL ]]; then
		grep -E '^  not passed:|^kunit.sh: .*(splat|failed|timed out)' "$work/kunit.$name" | sed -e 's/^/      /' | first 40 || true
	fi
done

# The system tests' items, as systest.sh printed them.
sys_pass=0
sys_fail=0
if ((systest_ran)); then
	while IFS= read -r l; do
		case $l in
		'PASS '* | 'FAIL '*)
			printf '%s\n' "$l" | tee -a "$items"
			ktap "${l%% *}" "${l#* }"
			if [[ $l == PASS* ]]; then
				n_pass=$((n_pass + 1)) sys_pass=$((sys_pass + 1))
			else
				n_fail=$((n_fail + 1)) sys_fail=$((sys_fail + 1))
			fi
			;;
		'SKIP '* | 'XFAIL '* | 'INFO '* | '      '*) printf '%s\n' "$l" ;;
		esac
	done <"$RESULTS/systest.out"
	if ! grep -q -E '^systest [^ ]+: [0-9]+ passed, [0-9]+ failed' "$RESULTS/systest.out"; then
		item FAIL "[$BASE]" systest "systest.sh stopped before its end: $(tail -n 3 "$RESULTS/systest.err" | tr '\n' ' ')"
		sys_fail=$((sys_fail + 1))
	fi
elif ((applied < N)) && [[ " $KUNIT_CONFIGS " == *" x86_64-debug "* && ${CHECK_SYSTEST:-1} == 1 ]]; then
	item FAIL "[$BASE]" systest "the series does not apply"
	sys_fail=1
fi

{
	printf 'base=%s\nversion=%s\npatches=%d\napplied=%d\n' "$BASE" "$(base_version)" "$N" "$applied"
	printf 'kunit_passed=%d\nkunit_failed=%d\nsystest_passed=%d\nsystest_failed=%d\npassed=%d\nfailed=%d\nseconds=%d\n' \
		"$kunit_pass" "$kunit_fail" "$sys_pass" "$sys_fail" "$n_pass" "$n_fail" "$(($(now) - t_start))"
} >"$summary.tmp"
{
	printf 'KTAP version 1\n1..%d\n' "${#ktap_lines[@]}"
	printf '%s\n' "${ktap_lines[@]}"
} >"$RESULTS/check-items.ktap.tmp"
mv "$RESULTS/check-items.ktap.tmp" "$RESULTS/check-items.ktap"
mv "$summary.tmp" "$summary"
printf 'check %s: %d passed, %d failed (%d patches, %d applied; KUnit cases %d passed, %d failed; %d s)\n' \
	"$BASE" "$n_pass" "$n_fail" "$N" "$applied" "$kunit_pass" "$kunit_fail" "$(($(now) - t_start))"
((n_fail == 0))
exit
}
