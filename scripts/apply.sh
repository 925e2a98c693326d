#!/usr/bin/env bash
# Create or update the work tree ($WORK, default $CACHE/<base>/work) with the
# series of patches/<base>/: branch 'series' = base + git am of every patch
# listed in patches/<base>/series.
#
# Never discards anything: a work tree with uncommitted changes (untracked
# files included) is refused; a previous branch head that differs from the
# series is kept as branch series-prev-<date>.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
load_series
need_git_identity "$REPO"
lock 5 "$WORK.lock" "the work tree $WORK"
warn_base_drift || true

if [[ -e $WORK ]]; then
	ensure_worktree "$WORK"
	! op_in_progress "$WORK" ||
		die "a git am/rebase/merge is in progress in the work tree $WORK; finish or abort it first (nothing was changed)"
	if [[ -n $(dirty "$WORK") ]]; then
		git -C "$WORK" status --short | head -n 20 >&2
		die "the work tree $WORK has uncommitted changes (see above); commit or stash them first (nothing was changed)"
	fi
else
	ensure_worktree "$WORK"
fi

g() { git -C "$WORK" "$@"; }
base_commit=$(g rev-parse "$BASE_TAG^{commit}")
old=$(g rev-parse -q --verify "refs/heads/$BRANCH" || true)
cur_branch=$(g symbolic-ref -q --short HEAD || true)
cur_head=$(g rev-parse HEAD)

restore() {
	if [[ -n $cur_branch ]]; then
		g checkout -q "$cur_branch"
	else
		g checkout -q --detach "$cur_head"
	fi
}

# Commits made on a detached HEAD (not on the branch) are kept too.
if [[ -z $cur_branch && $cur_head != "$base_commit" && $cur_head != "$old" ]] &&
	! g merge-base --is-ancestor "$cur_head" "${old:-$base_commit}"; then
	backup=detached-prev-$(date +%Y%m%d-%H%M%S)
	while g rev-parse -q --verify "refs/heads/$backup" >/dev/null; do backup=$backup-1; done
	g branch "$backup" "$cur_head"
	info "the work tree was on a detached HEAD ($cur_head) with commits of its own; kept as branch $backup"
fi

# Interrupted (Ctrl-C, kill) while the tree is detached in the middle of
# the am: abort it and put the tree back where it was.
# shellcheck disable=SC2317 # called by the EXIT trap
back_on_exit() {
	if op_in_progress "$WORK"; then
		g am --abort >/dev/null 2>&1 || true
	fi
	restore >/dev/null 2>&1 || true
	info "interrupted: the work tree is back on ${cur_branch:-$cur_head}"
}
trap back_on_exit EXIT
info "applying ${#patches[@]} patches of $PATCH_DIR onto $BASE ($BASE_PACKAGE $(base_version)) in $WORK"
g checkout -q --detach "$base_commit"
if ! am_patches "$WORK" "${patches[@]}"; then
	trap - EXIT
	restore
	die "patch $(basename "$AM_FAILED") (from $SERIES_FILE) does not apply in the work tree $WORK (git am -3 failed, see above; the am was aborted and the work tree is back as it was)"
fi
new=$(g rev-parse HEAD)
trap - EXIT

# Same series as the existing branch?  (Same tree and the same commits.)
same_series() {
	[[ $1 == "$2" ]] && return 0
	g diff --quiet "$1" "$2" || return 1
	[[ $(g log --format='%an %ae %ad%n%B' "$base_commit..$1") == "$(g log --format='%an %ae %ad%n%B' "$base_commit..$2")" ]]
}

if [[ -n $old ]] && same_series "$old" "$new"; then
	g checkout -q "$BRANCH"
	info "branch $BRANCH already has this series (${#patches[@]} patches, head $(g rev-parse --short HEAD))"
else
	if [[ -n $old && $old != "$base_commit" ]]; then
		backup=$BRANCH-prev-$(date +%Y%m%d-%H%M%S)
		while g rev-parse -q --verify "refs/heads/$backup" >/dev/null; do backup=$backup-1; done
		g branch "$backup" "$old"
		info "the previous head of $BRANCH ($old) differs from the series; kept as branch $backup"
	fi
	g checkout -q -B "$BRANCH" "$new"
	info "branch $BRANCH rebuilt: ${#patches[@]} patches, head $(g rev-parse --short HEAD)"
fi

# The cover letter's subject and body become the branch description, from
# which export regenerates the cover letter.
if cl=$(cover_letter); then
	desc=$(cover_description "$cl")
	if [[ -n $desc ]]; then
		g config "branch.$BRANCH.description" "$desc"
	fi
fi
exit
}
