# shellcheck shell=bash
# shellcheck disable=SC2034 # variables are used by the scripts sourcing this
# Shared logic of the iommu-series pipeline.  Source it, do not run it.
#
# Every script takes the kernel base as the BASE environment variable
# (default v7.3); nothing here is specific to one base except the table.

# The one table of bases.  Columns:
#   base  Debian-package  suite  mirror  component
IOMMU_BASES_TABLE='
v7.3   linux-source-7.3   trixie-backports   http://deb.debian.org/debian            main
v6.12  linux-source-6.12  bookworm-security  http://deb.debian.org/debian-security   main
'

# Where a sparse new enough for the kernel comes from when the installed one
# is too old (v7.3 needs __typeof_unqual__: sparse > 0.6.4, which bookworm
# lacks): the Debian source package, built into the cache.
SPARSE_SOURCE='sparse sid http://deb.debian.org/debian main'

PROG=${PROG:-$(basename "$0")}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${BASE:-v7.3}
CACHE=${IOMMU_SERIES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommu-series}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
# Name of the tag on the base commit and of the developer's branch.
BASE_TAG=base
BRANCH=${SERIES_BRANCH:-series}
# Kernel-log patterns counted as splats (extended regex, one alternation;
# may be overridden from the environment).  Warnings that tests trigger on
# purpose are suppressed by KUnit (kunit_warning_suppress()) and print
# nothing.
SPLAT_PATTERNS=${SPLAT_PATTERNS:-'WARNING:|BUG:|KASAN|UBSAN|possible circular locking|INFO: lockdep|Call Trace'}
# Stamp written into base.git last, before it is renamed into place.
BASE_STAMP=iommu-series-base

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

# Ctrl-C and kill stop every script at once.  kunit.py handles SIGINT
# itself and exits normally, and bash lets a script go on after a child
# that did not die of the signal; with these traps the script exits as
# soon as the child returns.  Background jobs of the script go with it.
# shellcheck disable=SC2317 # called by the traps
on_signal() {
	trap - INT TERM
	local pids
	mapfile -t pids < <(jobs -p)
	((${#pids[@]} == 0)) || kill_tree "${pids[@]}"
	printf '%s: interrupted (signal %s)\n' "$PROG" "$1" >&2
	exit $((128 + $2))
}
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM

# apt_update WHERE OPTION...: apt-get update that fails when a source could
# not be fetched (plain apt-get update exits 0 and only warns), saying that
# the mirror WHERE could not be reached.  APT_SUDO: a command to run
# apt-get with (sudo), empty for none.
apt_update() {
	local where=$1 out rc=0
	shift
	# shellcheck disable=SC2086 # APT_SUDO is empty or one word
	out=$(LC_ALL=C ${APT_SUDO:-} apt-get -q --error-on=any "$@" update 2>&1) || rc=$?
	printf '%s\n' "$out" >&2
	if ((rc != 0)); then
		if grep -q -E 'Could not resolve|Failed to fetch|Temporary failure|Connection (refused|failed|timed out)|Network is unreachable|Unable to connect' <<<"$out"; then
			info "cannot reach the Debian mirror $where (no network? see the apt-get messages above)"
		else
			info "apt-get update failed (see above)"
		fi
		return 1
	fi
}

# need_git_identity: git am and git commit need a committer identity; say
# so and how to set it instead of letting git am fail as "does not apply".
need_git_identity() {
	git -C "${1:-.}" var GIT_COMMITTER_IDENT >/dev/null 2>&1 ||
		die "git has no committer identity here (git am needs one); set it with: git config --global user.name 'Your Name'; git config --global user.email you@example.org"
}

# Scratch trees of the pipeline (the check tree, the selftest's) commit
# with an identity of their own, so they work without a configured one.
scratch_identity() {
	export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-iommu-series check}
	export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-iommu-series-check@localhost}
}

info() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

# first N: the first N lines of stdin.  Unlike head it reads all of its
# input, so the command before it never dies of SIGPIPE (which pipefail
# and set -e would turn into the death of the script).
first() {
	sed -n "1,${1}p"
}

# kill_tree PID...: kill the processes and all their descendants, children
# first (a killed parent's children would be re-parented and lost).
kill_tree() {
	local p c
	for p in "$@"; do
		for c in $(pgrep -P "$p" 2>/dev/null || true); do
			kill_tree "$c"
		done
		kill "$p" 2>/dev/null || true
	done
}

# Known bases, in table order.
known_bases() {
	awk 'NF >= 5 { print $1 }' <<<"$IOMMU_BASES_TABLE" | xargs
}

# base_init: look BASE up in the table and set the per-base paths.
# BASE_PACKAGE / BASE_SUITE may be overridden from the environment (to try
# another package; the cache directory stays keyed on BASE).
base_init() {
	local row
	[[ $BASE =~ ^[A-Za-z0-9._-]+$ ]] || die "bad BASE '$BASE'"
	row=$(awk -v b="$BASE" '$1 == b && NF >= 5' <<<"$IOMMU_BASES_TABLE")
	[[ -n $row ]] || die "unknown base '$BASE' (known bases: $(known_bases); the table is in scripts/lib.sh)"
	local _b pkg suite mirror comp
	read -r _b pkg suite mirror comp <<<"$row"
	BASE_PACKAGE=${BASE_PACKAGE:-$pkg}
	BASE_SUITE=${BASE_SUITE:-$suite}
	BASE_MIRROR=${BASE_MIRROR:-$mirror}
	BASE_COMPONENT=${BASE_COMPONENT:-$comp}

	BASE_DIR=$CACHE/$BASE
	BASE_GIT=$BASE_DIR/base.git
	WORK=${WORK:-$BASE_DIR/work}
	CHECK_WORK=${CHECK_WORK:-$BASE_DIR/check-work}
	BUILD_ROOT=${BUILD_ROOT:-$BASE_DIR/build}
	RESULTS=${RESULTS:-$BASE_DIR/results}
	PATCH_DIR=$REPO/patches/$BASE
	SERIES_FILE=$PATCH_DIR/series
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
	# Trees and build dirs live under $CACHE: ccache hashes the paths below
	# it relative to the build dir, so hits survive a moved cache.
	export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$CACHE}
	export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
	# Depend mode: the hash comes from kbuild's -MMD output, so a miss does
	# not run the preprocessor once more (cold builds are 10-20 % faster).
	export CCACHE_DEPEND=${CCACHE_DEPEND:-1}
}

# KUnit configurations and the kunitconfig fragments of this repo each one
# is made of, in order: x86_64-debug is x86_64 plus the debugging aids and
# the options of the system tests (scripts/systest.sh), arm64 likewise.
kunit_fragments() {
	case $1 in
	uml) echo uml ;;
	x86_64) echo x86_64 ;;
	x86_64-debug) echo x86_64 x86_64-debug systest ;;
	arm64) echo arm64 arm64-systest ;;
	*) return 1 ;;
	esac
}

# add_repo_kunitconfigs ARRAY CONFIG: append to the array named ARRAY a
# --kunitconfig=FILE option for each kunitconfig file of this repo for the
# KUnit configuration CONFIG: for each fragment F of it (kunit_fragments),
# kunit/F.kunitconfig and, for a base that needs options of its own (a
# symbol another base lacks), kunit/BASE/F.kunitconfig after it.
add_repo_kunitconfigs() {
	local -n _opts=$1
	local f frag
	for frag in $(kunit_fragments "$2"); do
		for f in "$REPO/kunit/$frag.kunitconfig" "$REPO/kunit/$BASE/$frag.kunitconfig"; do
			if [[ -f $f ]]; then
				_opts+=(--kunitconfig="$f")
			fi
		done
	done
}

# add_tree_kunitconfigs ARRAY CONFIG SRC: append to the array named ARRAY a
# --kunitconfig=FILE option for each .kunitconfig of a driver that the KUnit
# configuration CONFIG builds and that the tree SRC has (a driver patch of
# the series adds it, with the options of the driver's own suite): AMD-Vi
# on x86_64, arm-smmu-v3 on arm64.  Options the tree may lack stay out of
# the repo's fragments, so that a tree without that patch still configures.
add_tree_kunitconfigs() {
	local -n _topts=$1
	local f rel=()
	case $2 in
	x86_64 | x86_64-debug) rel=(drivers/iommu/amd/.kunitconfig) ;;
	arm64) rel=(drivers/iommu/arm/arm-smmu-v3/.kunitconfig) ;;
	esac
	for f in "${rel[@]}"; do
		[[ ! -f $3/$f ]] || _topts+=(--kunitconfig="$3/$f")
	done
}

have_base() {
	[[ -f $BASE_GIT/$BASE_STAMP ]]
}

need_base() {
	have_base || die "base $BASE is not fetched into $BASE_GIT (run: make fetch BASE=$BASE)"
}

base_version() {
	cat "$BASE_DIR/version" 2>/dev/null || echo unknown
}

# load_series: base_init, the series' patch files in order in the array
# patches, and the base must be fetched.
load_series() {
	local list
	base_init
	list=$(series_patches) || exit 1
	mapfile -t patches <<<"$list"
	need_base
}

# Print the patch files of the series, in order, one path a line.
# Blank lines and '#' comments in the series file are ignored.
series_patches() {
	[[ -d $PATCH_DIR ]] || die "no series directory $PATCH_DIR for base $BASE"
	[[ -f $SERIES_FILE ]] || die "no series file $SERIES_FILE (it lists the patch files in order)"
	local line n=0
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		line=$(xargs <<<"$line")
		[[ -n $line ]] || continue
		[[ -f $PATCH_DIR/$line ]] || die "patch '$line' listed in $SERIES_FILE does not exist"
		printf '%s\n' "$PATCH_DIR/$line"
		n=$((n + 1))
	done <"$SERIES_FILE"
	((n > 0)) || die "series file $SERIES_FILE lists no patches"
}

# warn_base_drift: say when the base fetched from Debian is not the one the
# series was exported against (the cover letter's base-commit: the Debian
# package was updated since).  Status 1 then.
warn_base_drift() {
	local cl want have
	cl=$(cover_letter) || return 0
	want=$(sed -n 's/^base-commit: \([0-9a-f]\{40\}\)$/\1/p' "$cl" | first 1)
	[[ -n $want ]] || return 0
	have=$(git -C "$BASE_GIT" rev-parse "$BASE_TAG^{commit}")
	[[ $want != "$have" ]] || return 0
	info "warning: the base fetched ($BASE_PACKAGE $(base_version), commit $have) is not the one the series was exported against (base-commit $want in $(basename "$cl"), $(sed -n 's/^base-version: //p' "$cl" | first 1)): Debian has a newer package; the patches may not apply or may behave differently"
	return 1
}

# The cover letter of the series, if any.
cover_letter() {
	local f
	for f in "$PATCH_DIR"/*0000-cover-letter.patch; do
		[[ -f $f ]] && { printf '%s\n' "$f"; return 0; }
	done
	return 1
}

# Non-empty output when the tree has uncommitted changes, untracked files
# included.
dirty() {
	git -C "$1" status --porcelain --untracked-files=all
}

# An am, rebase or cherry-pick in progress?
op_in_progress() {
	local gd
	gd=$(git -C "$1" rev-parse --absolute-git-dir)
	[[ -e $gd/rebase-apply || -e $gd/rebase-merge || -e $gd/CHERRY_PICK_HEAD || -e $gd/MERGE_HEAD ]]
}

# Make sure $1 is a work tree of the base: a clone of base.git sharing its
# objects (git clone --shared), created detached at the base commit when it
# does not exist.  (Not a "git worktree": the kernel's spdxcheck.py, run by
# checkpatch, refuses a worktree of a bare repository.)
ensure_worktree() {
	local dir=$1 want have
	want=$(git -C "$BASE_GIT" rev-parse "$BASE_TAG^{commit}")
	if [[ -e $dir ]]; then
		git -C "$dir" rev-parse --git-dir >/dev/null 2>&1 ||
			die "$dir exists but is not a git work tree (move it away)"
		have=$(git -C "$dir" rev-parse -q --verify "refs/tags/$BASE_TAG^{commit}" || true)
		[[ $have == "$want" ]] ||
			die "$dir is not a work tree of $BASE_GIT (its '$BASE_TAG' tag is not $want)"
		return 0
	fi
	info "checking out $BASE into $dir"
	mkdir -p "$(dirname "$dir")"
	rm -rf "$dir".tmp.*
	local tmp
	tmp=$(mktemp -d "$dir.tmp.XXXXXX") || die "cannot make a temporary directory next to $dir"
	# Each step checked: callers may run this where set -e does not apply.
	git clone -q --shared --no-checkout "$BASE_GIT" "$tmp/tree" || die "git clone of $BASE_GIT into $tmp failed"
	git -C "$tmp/tree" checkout -q --detach "$BASE_TAG" || die "checking out $BASE_TAG in $tmp/tree failed"
	[[ ${2:-} != scratch ]] || : >"$(git -C "$tmp/tree" rev-parse --absolute-git-dir)/$SCRATCH_MARK"
	mv "$tmp/tree" "$dir" || die "cannot move $tmp/tree to $dir"
	rmdir "$tmp"
}

# A scratch tree (the check tree, the selftest's trees) carries this file in
# its .git; the pipeline resets and cleans (git clean -fdx) only a tree
# that has it, never a developer's.
SCRATCH_MARK=iommu-series-scratch
is_scratch() {
	[[ -f $(git -C "$1" rev-parse --absolute-git-dir 2>/dev/null)/$SCRATCH_MARK ]]
}

# git am the given patch files in $1.  On failure abort the am and die
# naming the patch file and the tree.  Commit dates are the author dates, so
# the same patches on the same base give the same commits.
am_patches() {
	local dir=$1 p
	shift
	for p in "$@"; do
		if ! git -C "$dir" am -q -3 --committer-date-is-author-date "$p" >"$dir.am.log" 2>&1; then
			cat "$dir.am.log" >&2
			git -C "$dir" am --abort >/dev/null 2>&1 || true
			rm -f "$dir.am.log"
			AM_FAILED=$p
			return 1
		fi
	done
	rm -f "$dir.am.log"
}

# Files added by the range $2..$3 in repo $1 under drivers/iommu/ and
# include/linux/ (renames count as additions).
added_files() {
	git -C "$1" diff --no-renames --diff-filter=A --name-only "$2" "$3" -- drivers/iommu include/linux
}

# COPY_DIRS: the directories of this repo holding copies of the files the
# series add, one subdirectory per base (drivers-iommu/v7.3/...).
COPY_DIRS=(drivers-iommu include-linux)

# copy_dest PATH: where a copy of a file the series of BASE adds lives in
# this repo.
copy_dest() {
	case $1 in
	drivers/iommu/*) printf 'drivers-iommu/%s/%s\n' "$BASE" "${1#drivers/iommu/}" ;;
	include/linux/*) printf 'include-linux/%s/%s\n' "$BASE" "${1#include/linux/}" ;;
	*) return 1 ;;
	esac
}

# write_copies GITDIR REV OUTDIR: write the added files of base..REV to
# OUTDIR/drivers-iommu/BASE and OUTDIR/include-linux/BASE.
write_copies() {
	local dir=$1 rev=$2 out=$3 f dest d
	for d in "${COPY_DIRS[@]}"; do
		mkdir -p "$out/$d/$BASE"
	done
	while IFS= read -r f; do
		[[ -n $f ]] || continue
		dest=$out/$(copy_dest "$f")
		mkdir -p "$(dirname "$dest")"
		git -C "$dir" show "$rev:$f" >"$dest"
	done < <(added_files "$dir" "$BASE_TAG" "$rev")
}

# The kunit.py of a kernel tree.
kunit_py() {
	local src=$1
	shift
	python3 "$src/tools/testing/kunit/kunit.py" "$@"
}

# Seconds since the epoch, for timings.
now() {
	date +%s
}

# cover_description FILE: the branch description (subject, blank line, body)
# recorded in a format-patch cover letter; empty for the template cover
# letter (*** SUBJECT HERE ***).
cover_description() {
	awk '
		hdr == 0 {
			if ($0 == "") { hdr = 1; next }
			if ($0 ~ /^[ \t]/ && last == "subject") { subj = subj " " substr($0, match($0, /[^ \t]/)); next }
			last = ""
			if (tolower($0) ~ /^subject:/) { subj = substr($0, 9); last = "subject" }
			next
		}
		/^.* \([0-9]+\):$/ { done = 1 }
		done { next }
		{ body[++n] = $0 }
		END {
			sub(/^[ \t]+/, "", subj)
			sub(/^\[[^]]*\][ \t]*/, "", subj)
			if (subj == "" || subj == "*** SUBJECT HERE ***") exit
			while (n > 0 && body[n] == "") n--
			s = 1
			while (s <= n && body[s] == "") s++
			if (s == n && body[s] == "*** BLURB HERE ***") n = 0
			print subj
			if (n >= s) { print ""; for (i = s; i <= n; i++) print body[i] }
		}' "$1"
}

# subject_prefix FILE: the prefix of a patch mail, e.g. "PATCH v2" of
# "[PATCH v2 0/3] ..."; "PATCH" when there is none.
subject_prefix() {
	local p
	p=$(sed -n 's/^Subject: \[\(.*\) [0-9]*\/[0-9]*\].*/\1/p' "$1" | first 1)
	printf '%s\n' "${p:-PATCH}"
}

# kunit_status STATUS FAILED CRASHED TOTAL ERRORS SPLATS HAS_TESTS: the status
# of a KUnit run from the status of its kunit.py run (ok when the kernel ran
# to the end) and its counts: tests-failed, no-tests (none ran although the
# tree has the series' .kunitconfig, HAS_TESTS=1), ktap-errors (kunit.py could
# not read part of the log, so results are missing), splats, or STATUS.
kunit_status() {
	local status=$1 failed=$2 crashed=$3 total=$4 errors=$5 splats=$6 has_tests=$7
	if [[ $status == ok ]]; then
		if ((failed + crashed > 0)); then
			status=tests-failed
		elif ((total == 0 && has_tests)); then
			status=no-tests
		elif ((errors > 0 && total > 0)); then
			status=ktap-errors
		elif ((splats > 0)); then
			status=splats
		fi
	fi
	printf '%s\n' "$status"
}

# kunit_counts JSON: the counts of a kunit.py --json result as shell
# assignments (passed= failed= crashed= skipped= errors=); the names of the
# cases that did not pass on stderr.  The counts are made from the status of
# each case (PASS, SKIP, ERROR for a crash, FAIL otherwise), which the JSON
# of every kunit.py has; only newer ones add totals.
kunit_counts() {
	python3 "$REPO/scripts/kunit_counts.py" "$1"
}

# splat_lines LOG: the kernel-log lines matching SPLAT_PATTERNS.
splat_lines() {
	grep -E -- "$SPLAT_PATTERNS" "$1" || true
}

# result_get FILE KEY: a value of a key=value result file.
result_get() {
	sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n 1
}

# series_into_check_tree PATCH...: reset the check work tree ($CHECK_WORK,
# scratch, never edited by hand) to the base and git am the patches one by
# one.  Sets SERIES_COMMITS (commit of patch i, 0-based) and SERIES_APPLIED
# (how many applied); on a patch that does not apply, AM_FAILED is its file
# and the return status is 1.
series_into_check_tree() {
	ensure_worktree "$CHECK_WORK" scratch
	case $CHECK_WORK in
	"$BASE_DIR/check-work" | "$BASE_DIR/mutate-work" | "$BASE_DIR/selftest/check")
		# The pipeline's own default scratch trees, made before the mark
		# existed (ensure_worktree checked that they are trees of the base).
		if ! is_scratch "$CHECK_WORK"; then
			info "marking $CHECK_WORK (the pipeline's default scratch tree) as scratch"
			: >"$(git -C "$CHECK_WORK" rev-parse --absolute-git-dir)/$SCRATCH_MARK"
		fi
		;;
	esac
	is_scratch "$CHECK_WORK" ||
		die "$CHECK_WORK is not a scratch tree of the pipeline (no .git/$SCRATCH_MARK): refusing to reset and clean it; point CHECK_WORK at a directory of its own"
	scratch_identity
	local gd
	gd=$(git -C "$CHECK_WORK" rev-parse --absolute-git-dir)
	# The caller holds the check lock: a lock file left by an interrupted
	# run is stale.
	rm -f "$gd/index.lock"
	if op_in_progress "$CHECK_WORK"; then
		git -C "$CHECK_WORK" am --abort >/dev/null 2>&1 || true
	fi
	git -C "$CHECK_WORK" checkout -q -f --detach "$BASE_TAG" ||
		die "cannot check out $BASE_TAG in the check tree $CHECK_WORK"
	git -C "$CHECK_WORK" clean -q -fdx || die "git clean failed in the check tree $CHECK_WORK"
	SERIES_COMMITS=()
	SERIES_APPLIED=0
	AM_FAILED=
	local p
	for p in "$@"; do
		am_patches "$CHECK_WORK" "$p" 2>"$CHECK_WORK.am.err" || {
			cat "$CHECK_WORK.am.err" >&2
			rm -f "$CHECK_WORK.am.err"
			return 1
		}
		SERIES_COMMITS+=("$(git -C "$CHECK_WORK" rev-parse HEAD)")
		SERIES_APPLIED=$((SERIES_APPLIED + 1))
	done
	rm -f "$CHECK_WORK.am.err"
}

# compare_copies GITDIR REV: compare drivers-iommu/BASE/ and
# include-linux/BASE/ of this repo with the files base..REV adds; print one
# line per missing, extra or different file, and per file of those
# directories that belongs to no known base; status 1 when any.
compare_copies() {
	local dir=$1 rev=$2 tmp rc=0 f b bases
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/iommu-copies.XXXXXX")
	write_copies "$dir" "$rev" "$tmp"
	bases=" $(known_bases) "
	while IFS= read -r f; do
		b=${f#*/}
		b=${b%%/*}
		if [[ $f != */*/* || $bases != *" $b "* ]]; then
			printf 'extra: %s (not in a directory of a known base: %s)\n' "$f" "$(known_bases)"
			rc=1
		fi
	done < <(cd "$REPO" && find "${COPY_DIRS[@]}" -type f 2>/dev/null | LC_ALL=C sort)
	while IFS= read -r f; do
		if [[ ! -f $REPO/$f ]]; then
			printf 'missing: %s (added by the series)\n' "$f"
			rc=1
		elif ! cmp -s "$tmp/$f" "$REPO/$f"; then
			printf 'differs: %s (from the file the series adds)\n' "$f"
			rc=1
		fi
	done < <(cd "$tmp" && find "${COPY_DIRS[@]/%//$BASE}" -type f | LC_ALL=C sort)
	while IFS= read -r f; do
		if [[ ! -f $tmp/$f ]]; then
			printf 'extra: %s (not added by the series)\n' "$f"
			rc=1
		fi
	done < <(cd "$REPO" && find "${COPY_DIRS[@]/%//$BASE}" -type f 2>/dev/null | LC_ALL=C sort)
	rm -rf "$tmp"
	return "$rc"
}

# sparse_ok SRC SPARSE: is SPARSE good enough for the kernel tree SRC (the
# kernel's own scripts/checker-valid.sh)?
sparse_ok() {
	[[ -x $(command -v "$2" || true) ]] || return 1
	[[ ! -f $1/scripts/checker-valid.sh ]] ||
		[[ $(sh "$1/scripts/checker-valid.sh" "$2" -m64 --arch=x86_64 2>/dev/null) == 1 ]]
}

# ensure_sparse SRC: print the path of a sparse that the kernel tree SRC
# accepts: the installed one, or one built from the Debian source package
# of SPARSE_SOURCE into $CACHE/tools (downloaded with a private apt
# configuration, like the base).
ensure_sparse() {
	local src=$1 dir=$CACHE/tools/sparse pkg suite mirror comp apt tmp orig
	if [[ -n ${SPARSE:-} ]]; then
		# A sparse named by the caller: that one or none.
		sparse_ok "$src" "$SPARSE" || { info "SPARSE=$SPARSE is not a sparse that $src accepts"; return 1; }
		command -v "$SPARSE"
		return 0
	fi
	if sparse_ok "$src" sparse; then
		command -v sparse
		return 0
	fi
	# One build at a time (make check runs the selftest beside a base).
	lock 4 "$CACHE/tools/sparse.lock" "the sparse build in $dir" >&2
	if [[ -x $dir/bin/sparse ]] && sparse_ok "$src" "$dir/bin/sparse"; then
		printf '%s\n' "$dir/bin/sparse"
		return 0
	fi
	read -r pkg suite mirror comp <<<"$SPARSE_SOURCE"
	info "the installed sparse ($(sparse --version 2>/dev/null || echo none)) is too old for this kernel; building $pkg from Debian $suite sources into $dir"
	apt=$CACHE/tools/apt
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$CACHE/tools"
	printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s %s\n' \
		"$mirror" "$suite" "$comp" >"$apt/sources.list"
	local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::status=/dev/null
		-o APT::Sandbox::User=root -o Acquire::Languages=none -o Debug::NoLocking=1)
	tmp=$(mktemp -d "$CACHE/tools/.sparse.XXXXXX")
	if ! apt_update "$mirror" "${opts[@]}" 2>"$tmp/log" ||
		! (cd "$tmp" && apt-get -qq "${opts[@]}" source --download-only "$pkg") >>"$tmp/log" 2>&1; then
		cat "$tmp/log" >&2
		rm -rf "$tmp"
		info "could not download the Debian source package $pkg from $suite ($mirror)"
		return 1
	fi
	orig=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.orig.tar.*" | first 1)
	mkdir "$tmp/src"
	if [[ -z $orig ]] || ! tar -C "$tmp/src" --strip-components=1 -xf "$orig" ||
		! make -C "$tmp/src" -s -j"$JOBS" sparse HAVE_LLVM=no HAVE_SQLITE=no HAVE_GTK=no HAVE_LIBXML=no >>"$tmp/log" 2>&1; then
		tail -n 20 "$tmp/log" >&2
		rm -rf "$tmp"
		info "could not build $pkg from its Debian source package"
		return 1
	fi
	mkdir -p "$tmp/out/bin"
	cp "$tmp/src/sparse" "$tmp/out/bin/"
	find "$tmp" -maxdepth 1 -name "${pkg}_*.dsc" -printf '%f\n' >"$tmp/out/source"
	rm -rf "$dir"
	mv "$tmp/out" "$dir"
	rm -rf "$tmp"
	if sparse_ok "$src" "$dir/bin/sparse"; then
		printf '%s\n' "$dir/bin/sparse"
	else
		info "$dir/bin/sparse (from $(cat "$dir/source")) is not accepted by $src/scripts/checker-valid.sh either"
		return 1
	fi
}

# lock FD FILE WHAT: take an exclusive lock on FILE with file descriptor FD,
# waiting (and saying so) while another run holds it.
lock() {
	local fd=$1 file=$2 what=$3
	mkdir -p "$(dirname "$file")"
	eval "exec $fd>\"\$file\""
	if ! flock -n "$fd"; then
		info "waiting for another run using $what ($file)"
		# In the background and waited for, so that Ctrl-C stops the wait
		# (the lock is the open file's: it stays when flock exits).
		flock "$fd" &
		wait "$!"
	fi
}
