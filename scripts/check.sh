#!/usr/bin/env bash
# check.sh: all checks of the series of patches/<base>/, in the check work
# tree ($CACHE/<base>/check-work, scratch: the developer's work tree is not
# touched).
#
# Per patch k (bisectability: the tree at patch k):
#   apply       git am -3 of patch k on top of patches 1..k-1
#   kunit-uml   UML KUnit kernel builds, the suites that exist pass
#   w1          every touched .c file's object builds with W=1 (x86_64,
#               .config of the x86_64 KUnit config), no warning in touched files
#   sparse      make C=2: no warning in touched files the base lacks
#   checkpatch  checkpatch.pl --strict: no message except "added, moved or
#               deleted file(s), does MAINTAINERS need updating?"
#   kernel-doc  kernel-doc -none -Wall: no warning the base file lacks
#   coccicheck  coccicheck (report mode) on touched .c files: no report the
#               base file lacks
# Then, on the full series: the copies check and the KUnit configurations
# uml, x86_64 and x86_64-debug (CHECK_KUNIT_CONFIGS), one item per case.
#
# Prints one PASS/FAIL line per item and "check <base>: N passed, N failed";
# writes $CACHE/<base>/results/check-items.txt and check-summary.txt.
# Results of sparse (by tree, object and .config) and coccicheck (by file
# content) are cached in $CACHE/<base>/check-cache.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
load_series

# One check at a time per check tree (it shares build dirs and results).
lock 7 "$CHECK_WORK.lock" "the check tree $CHECK_WORK"
mkdir -p "$RESULTS"
items=$RESULTS/check-items.txt
summary=$RESULTS/check-summary.txt
rm -f "$summary"
: >"$items"
ccache_dir=$BASE_DIR/check-cache
OBJ=$BUILD_ROOT/check-obj
mkdir -p "$ccache_dir/sparse" "$ccache_dir/coccicheck" "$OBJ" "$CCACHE_DIR"
N=${#patches[@]}
CHECKS=(apply kunit-uml w1 sparse checkpatch kernel-doc coccicheck)
KUNIT_CONFIGS=${CHECK_KUNIT_CONFIGS-uml x86_64 x86_64-debug}
n_pass=0
n_fail=0
t_start=$(now)

# item PASS|FAIL LABEL CHECK [DETAIL]
item() {
	local line="$1 $2 $3"
	[[ -z ${4:-} ]] || line+=" ($4)"
	printf '%s\n' "$line" | tee -a "$items"
	if [[ $1 == PASS ]]; then n_pass=$((n_pass + 1)); else n_fail=$((n_fail + 1)); fi
}
# indent: detail lines under an item
indent() {
	sed -e 's/^/      /' | head -n "${1:-30}"
}
cw() { git -C "$CHECK_WORK" "$@"; }
label() {
	printf '[%s %0*d/%d %s]' "$BASE" "${#N}" "$1" "$N" "$(basename "${patches[$1 - 1]}")"
}
hash_of() {
	printf '%s\n' "$@" | sha1sum | cut -c1-40
}

# make in the object build dir of the check tree (x86_64).
kmake() {
	make -C "$CHECK_WORK" O="$OBJ" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" -s "$@"
}

# diag FILE...: read compiler/sparse/kernel-doc/coccicheck messages on stdin,
# keep those about the given files (paths relative to the tree) and print
# them as "file: message", without line and column numbers (so that a
# moved line is not a new warning).  Sorted, duplicates kept.
diag() {
	awk -v src="$CHECK_WORK/" -v files="$*" '
		BEGIN { n = split(files, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		{
			line = $0
			while ((p = index(line, src)) > 0)
				line = substr(line, 1, p - 1) substr(line, p + length(src))
			sub(/^Warning: /, "", line)
			if (!match(line, /^[^: ]+:[0-9]+(:[0-9]+)?(-[0-9]+)?:? /)) next
			file = line; sub(/:.*/, "", file)
			if (!(file in want)) next
			msg = substr(line, RLENGTH + 1)
			print file ": " msg
		}' | LC_ALL=C sort
}

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

# new_lines BASEFILE NEWFILE: lines of NEWFILE not in BASEFILE (multiset).
new_lines() {
	LC_ALL=C comm -13 "$1" "$2"
}

# sparse_of OBJ: raw sparse output for an object of the checked-out tree,
# cached by (tree, object, .config).
sparse_of() {
	local obj=$1 key f
	key=$(hash_of sparse-2 "$(cw rev-parse 'HEAD^{tree}')" "$obj" "$config_hash" "$("$sparse_bin" --version)")
	f=$ccache_dir/sparse/$key
	if [[ ! -f $f ]]; then
		cp "$OBJ.config" "$OBJ/.config"
		kmake W=1 C=2 CHECK="$sparse_bin" "$obj" >"$f.tmp" 2>&1 || true
		# The kernel's Makefile silently skips a sparse it does not accept.
		if grep -q 'specified, but .* is not available or not up to date' "$f.tmp"; then
			printf 'sparse-not-run: %s\n' "$(head -n 1 "$f.tmp")"
			rm -f "$f.tmp"
			return 0
		fi
		strip_src <"$f.tmp" >"$f"
		rm -f "$f.tmp"
	fi
	cat "$f"
}

# cocci_of FILE: raw coccicheck (report mode) output for a .c file of the
# checked-out tree, cached by (file content, path, semantic patches, spatch).
# scripts/coccicheck is run directly on the file, as "make C=2
# CHECK=scripts/coccicheck" would (which would also check every prepare
# object make visits).
cocci_of() {
	local c=$1 key f t0 s=$CHECK_WORK
	key=$(hash_of cocci-2 "$(cw rev-parse "HEAD:$c")" "$c" "$(cw rev-parse 'HEAD:scripts/coccinelle')" \
		"$(cw rev-parse 'HEAD:scripts/coccicheck')" "$(spatch --version | head -n 1)")
	f=$ccache_dir/coccicheck/$key
	if [[ ! -f $f ]]; then
		t0=$(now)
		(cd "$OBJ" && srctree=$s C=2 MODE=report DEBUG_FILE=/dev/null \
			LINUXINCLUDE="-I$s/arch/x86/include -I./arch/x86/include/generated -I$s/include -I./include -I$s/arch/x86/include/uapi -I./arch/x86/include/generated/uapi -I$s/include/uapi -I./include/generated/uapi -include $s/include/linux/compiler-version.h -include $s/include/linux/kconfig.h" \
			"$s/scripts/coccicheck" "$s/$c") 2>&1 | strip_src >"$f.tmp" || true
		mv "$f.tmp" "$f"
		info "coccicheck $c ($(cw rev-parse --short HEAD)): $(($(now) - t0)) s"
	fi
	cat "$f"
}

# sparse_only: drop the compiler's lines from make C=2 output (when the
# object had to be compiled first): gcc's warnings end in [-Wname].
sparse_only() {
	grep -E ': (warning|error): ' | grep -v -E '\[-W[^]]*\]$' || true
}

kdoc_of() {
	(cd "$CHECK_WORK" && scripts/kernel-doc -none -Wall "$1" 2>&1) || true
}

# ---------------------------------------------------------------------------
info "checking $N patches of $PATCH_DIR on $BASE ($BASE_PACKAGE $(base_version)) in $CHECK_WORK"
series_into_check_tree "${patches[@]}" || true
applied=$SERIES_APPLIED
commits=("${SERIES_COMMITS[@]}")
if ((applied == 0)); then
	last=$(cw rev-parse "$BASE_TAG^{commit}")
else
	last=${commits[applied - 1]}
fi

# The object build dir gets the .config of the x86_64 KUnit configuration
# of the full series; it is restored before every build (Kconfig drops the
# symbols a tree does not know, e.g. at the base).
config_ok=1
cw checkout -q --detach "$last"
kc=()
add_repo_kunitconfigs kc x86_64
[[ -f $CHECK_WORK/drivers/iommu/.kunitconfig ]] && kc+=(--kunitconfig="$CHECK_WORK/drivers/iommu/.kunitconfig")
if (cd "$CHECK_WORK" && kunit_py "$CHECK_WORK" config --arch=x86_64 --build_dir="$OBJ" \
	"${kc[@]}" --make_options="CC=ccache gcc") >"$RESULTS/check-obj-config.log" 2>&1; then
	# Warnings must stay warnings (counted below), not stop the build.
	"$CHECK_WORK/scripts/config" --file "$OBJ/.config" --disable WERROR
	kmake olddefconfig >>"$RESULTS/check-obj-config.log" 2>&1
	cp "$OBJ/.config" "$OBJ.config"
	config_hash=$(sha1sum <"$OBJ.config" | cut -c1-40)
else
	config_ok=0
	config_hash=none
	info "kunit.py config --arch=x86_64 failed (see $RESULTS/check-obj-config.log)"
fi

# A sparse the tree accepts (bookworm's 0.6.4 is too old for v7.3).
if sparse_bin=$(ensure_sparse "$CHECK_WORK"); then
	sparse_from=installed
	[[ $sparse_bin != "$CACHE"/tools/* ]] || sparse_from="built from $(cat "$CACHE/tools/sparse/source" 2>/dev/null)"
	info "sparse: $sparse_bin ($("$sparse_bin" --version), $sparse_from)"
else
	sparse_bin=
fi

# Files touched by patch k (not deleted), by kind.
touched() { cw diff --no-renames --name-only --diff-filter=d "${commits[$1 - 1]}~1" "${commits[$1 - 1]}"; }

# Base versions: sparse and coccicheck of every .c file touched by some
# patch, kernel-doc of every touched .c/.h file (empty when the base lacks
# the file).
basedir=$(mktemp -d "${TMPDIR:-/tmp}/iommu-check.XXXXXX")
trap 'rm -rf "$basedir"' EXIT
if ((applied > 0)); then
	cw checkout -q --detach "$BASE_TAG"
	for ((k = 1; k <= applied; k++)); do touched "$k"; done | LC_ALL=C sort -u >"$basedir/all-touched"
	while IFS= read -r f; do
		[[ $f == *.c || $f == *.h ]] || continue
		b=$basedir/$(tr / _ <<<"$f")
		if cw cat-file -e "HEAD:$f" 2>/dev/null; then
			kdoc_of "$f" >"$b.kdoc"
			if [[ $f == *.c ]] && ((config_ok)); then
				[[ -z $sparse_bin ]] || sparse_of "${f%.c}.o" >"$b.sparse"
				cocci_of "$f" >"$b.cocci"
			fi
		fi
		touch "$b.kdoc" "$b.sparse" "$b.cocci"
	done <"$basedir/all-touched"
fi

used_uml_dirs=
uml_dir=$BUILD_ROOT/check-uml-none
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
	cw checkout -q --detach "${commits[k - 1]}"
	mapfile -t files < <(touched "$k")
	cfiles=()
	srcfiles=()
	for f in "${files[@]}"; do
		[[ $f == *.c ]] && cfiles+=("$f")
		[[ $f == *.c || $f == *.h ]] && srcfiles+=("$f")
	done

	# kunit-uml.  One build dir per version of drivers/iommu/.kunitconfig
	# (none before the series adds it), so that going from patch to patch
	# rebuilds incrementally instead of flipping one .config back and forth.
	kc_key=none
	[[ ! -f $CHECK_WORK/drivers/iommu/.kunitconfig ]] ||
		kc_key=$(sha1sum <"$CHECK_WORK/drivers/iommu/.kunitconfig" | cut -c1-12)
	uml_dir=$BUILD_ROOT/check-uml-$kc_key
	used_uml_dirs+=" $uml_dir "
	if KUNIT_BUILD_DIR=$uml_dir RESULT_NAME=check-uml-p$k \
		"$REPO/scripts/kunit.sh" uml "$CHECK_WORK" >"$basedir/kunit.out" 2>&1; then
		item PASS "$L" kunit-uml "$(tail -n 1 "$basedir/kunit.out")"
	else
		item FAIL "$L" kunit-uml "$(tail -n 1 "$basedir/kunit.out")"
		tail -n 25 "$basedir/kunit.out" | indent 25
	fi

	# w1, sparse
	if ((${#cfiles[@]} == 0)); then
		item PASS "$L" w1 "no .c file touched"
		item PASS "$L" sparse "no .c file touched"
	elif ((config_ok == 0)); then
		item FAIL "$L" w1 "kunit.py config --arch=x86_64 failed, see $RESULTS/check-obj-config.log"
		item FAIL "$L" sparse "kunit.py config --arch=x86_64 failed"
	else
		w1_bad=()
		: >"$basedir/w1"
		: >"$basedir/w1.err"
		for c in "${cfiles[@]}"; do
			o=${c%.c}.o
			cp "$OBJ.config" "$OBJ/.config"
			rm -f "$OBJ/$o"
			if kmake W=1 "$o" >"$basedir/w1.out" 2>&1; then
				[[ -f $OBJ/$o ]] || w1_bad+=("$o was not built: not enabled by the x86_64 .config?")
			else
				w1_bad+=("$o does not build")
				grep -E -i 'error' "$basedir/w1.out" >>"$basedir/w1.err" || true
			fi
			diag "${srcfiles[@]}" <"$basedir/w1.out" | grep -F ': warning:' >>"$basedir/w1" || true
		done
		nw=$(wc -l <"$basedir/w1")
		if ((nw == 0 && ${#w1_bad[@]} == 0)); then
			item PASS "$L" w1 "${#cfiles[@]} objects, no warning"
		else
			item FAIL "$L" w1 "$nw warnings in touched files${w1_bad[*]:+; ${w1_bad[*]}}"
			cat "$basedir/w1" "$basedir/w1.err" | indent
		fi

		: >"$basedir/sparse-new"
		[[ -n $sparse_bin ]] || echo "no sparse that this kernel accepts (see above)" >"$basedir/sparse-new"
		for c in "${cfiles[@]}"; do
			[[ -n $sparse_bin ]] || break
			b=$basedir/$(tr / _ <<<"$c")
			sparse_of "${c%.c}.o" >"$basedir/sp.raw"
			if grep -q '^sparse-not-run' "$basedir/sp.raw" "$b.sparse"; then
				echo "make C=2 did not run sparse for ${c%.c}.o (base or patched)" >>"$basedir/sparse-new"
				continue
			fi
			sparse_only <"$basedir/sp.raw" | diag "${srcfiles[@]}" >"$basedir/sp.now"
			sparse_only <"$b.sparse" | diag "${srcfiles[@]}" >"$basedir/sp.base"
			new_lines "$basedir/sp.base" "$basedir/sp.now" >>"$basedir/sparse-new"
		done
		ns=$(wc -l <"$basedir/sparse-new")
		if ((ns == 0)); then
			item PASS "$L" sparse
		else
			item FAIL "$L" sparse "$ns new warnings in touched files"
			indent <"$basedir/sparse-new"
		fi
	fi

	# checkpatch: the python scripts it runs (spdxcheck.py) need Debian's
	# python3 modules, so Debian's python3 comes first in PATH.
	(cd "$CHECK_WORK" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --terse --show-types --no-summary \
		"${patches[k - 1]}") >"$basedir/cp.out" 2>&1 || true
	grep -E ': (ERROR|WARNING|CHECK):' "$basedir/cp.out" |
		grep -v -F 'added, moved or deleted file(s), does MAINTAINERS need updating?' >"$basedir/cp.bad" || true
	if grep -q 'Traceback' "$basedir/cp.out"; then
		# A helper of checkpatch (spdxcheck.py) crashed: a check was skipped.
		grep -E 'Error|Traceback' "$basedir/cp.out" | sed 's/^/checkpatch problem: /' >>"$basedir/cp.bad"
	fi
	if [[ ! -s $basedir/cp.bad ]]; then
		item PASS "$L" checkpatch
	else
		item FAIL "$L" checkpatch "$(wc -l <"$basedir/cp.bad") messages"
		sed -e "s#^${patches[k - 1]}:#line #" "$basedir/cp.bad" | indent
	fi

	# kernel-doc
	: >"$basedir/kd-new"
	for f in "${srcfiles[@]}"; do
		b=$basedir/$(tr / _ <<<"$f")
		kdoc_of "$f" | diag "$f" >"$basedir/kd.now"
		diag "$f" <"$b.kdoc" >"$basedir/kd.base"
		new_lines "$basedir/kd.base" "$basedir/kd.now" >>"$basedir/kd-new"
	done
	nk=$(wc -l <"$basedir/kd-new")
	if ((nk == 0)); then
		item PASS "$L" kernel-doc "${#srcfiles[@]} files"
	else
		item FAIL "$L" kernel-doc "$nk new warnings"
		indent <"$basedir/kd-new"
	fi

	# coccicheck
	if ((${#cfiles[@]} == 0)); then
		item PASS "$L" coccicheck "no .c file touched"
	elif ((config_ok == 0)); then
		item FAIL "$L" coccicheck "kunit.py config --arch=x86_64 failed"
	else
		: >"$basedir/cc-new"
		for c in "${cfiles[@]}"; do
			b=$basedir/$(tr / _ <<<"$c")
			cocci_of "$c" | diag "$c" >"$basedir/cc.now"
			diag "$c" <"$b.cocci" >"$basedir/cc.base"
			new_lines "$basedir/cc.base" "$basedir/cc.now" >>"$basedir/cc-new"
		done
		nc=$(wc -l <"$basedir/cc-new")
		if ((nc == 0)); then
			item PASS "$L" coccicheck "${#cfiles[@]} files"
		else
			item FAIL "$L" coccicheck "$nc new reports"
			indent <"$basedir/cc-new"
		fi
	fi
done

# UML build dirs of .kunitconfig versions the series no longer has.
for d in "$BUILD_ROOT"/check-uml-*; do
	[[ -d $d && $used_uml_dirs != *" $d "* ]] || continue
	info "removing $d (no patch of the series uses that .kunitconfig)"
	rm -rf "$d"
done

# ---------------------------------------------------------------------------
# The full series.
cw checkout -q --detach "$last"
if ((applied < N)); then
	item FAIL "[$BASE]" copies "the series does not apply"
elif out=$(compare_copies "$CHECK_WORK" "$last"); then
	item PASS "[$BASE]" copies "drivers-iommu/ and include-linux/ match the series"
else
	item FAIL "[$BASE]" copies "$(wc -l <<<"$out") files differ; run make export"
	indent <<<"$out"
fi

kunit_pass=0
kunit_fail=0
for config in $KUNIT_CONFIGS; do
	if ((applied < N)); then
		item FAIL "[$BASE]" "kunit-$config" "the series does not apply"
		continue
	fi
	rc=0
	bdir=$BUILD_ROOT/check-$config
	# uml: the build dir of the last patch (same tree: nothing to rebuild).
	[[ $config != uml ]] || bdir=$uml_dir
	KUNIT_BUILD_DIR=$bdir RESULT_NAME=check-$config \
		"$REPO/scripts/kunit.sh" "$config" "$CHECK_WORK" >"$basedir/kunit.out" 2>&1 || rc=$?
	r=$RESULTS/check-$config.txt
	if [[ ! -f $r ]]; then
		item FAIL "[$BASE]" "kunit-$config" "kunit.sh wrote no result"
		tail -n 25 "$basedir/kunit.out" | indent 25
		continue
	fi
	p=$(result_get "$r" passed)
	f=$(($(result_get "$r" failed) + $(result_get "$r" crashed) + $(result_get "$r" extra_failed)))
	kunit_pass=$((kunit_pass + p))
	kunit_fail=$((kunit_fail + f))
	n_pass=$((n_pass + p))
	n_fail=$((n_fail + f))
	st=PASS
	((rc == 0 && f == 0)) || st=FAIL
	printf '%s %s kunit-%s %s\n' "$st" "[$BASE]" "$config" "$(tail -n 1 "$basedir/kunit.out")" | tee -a "$items"
	if [[ $st == FAIL ]]; then
		grep -E '^  not passed:|^kunit.sh: .*(splat|failed|timed out)' "$basedir/kunit.out" | indent 40 || true
	fi
done

{
	printf 'base=%s\nversion=%s\npatches=%d\napplied=%d\n' "$BASE" "$(base_version)" "$N" "$applied"
	printf 'kunit_passed=%d\nkunit_failed=%d\npassed=%d\nfailed=%d\nseconds=%d\n' \
		"$kunit_pass" "$kunit_fail" "$n_pass" "$n_fail" "$(($(now) - t_start))"
} >"$summary.tmp"
mv "$summary.tmp" "$summary"
printf 'check %s: %d passed, %d failed (%d patches, %d applied; KUnit cases %d passed, %d failed; %d s)\n' \
	"$BASE" "$n_pass" "$n_fail" "$N" "$applied" "$kunit_pass" "$kunit_fail" "$(($(now) - t_start))"
((n_fail == 0))
exit
}
