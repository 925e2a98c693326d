#!/usr/bin/env bash
# Write the series of the work tree back into the repo:
#   patches/<base>/*.patch   git format-patch of base..HEAD, with a cover
#                            letter made from the branch description
#   patches/<base>/series    the patch file names in order (no cover letter)
#   drivers-iommu/<base>/, include-linux/<base>/
#                            the final version of every file the series adds
#                            under drivers/iommu/ and include/linux/
# Refuses a dirty work tree.  Byte-stable: exporting twice changes nothing.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
base_init
need_base

[[ -d $WORK ]] || die "no work tree $WORK (run: make apply BASE=$BASE)"
ensure_worktree "$WORK"
! op_in_progress "$WORK" || die "a git am/rebase/merge is in progress in the work tree $WORK; finish it first"
if [[ -n $(dirty "$WORK") ]]; then
	git -C "$WORK" status --short | head -n 20 >&2
	die "refusing to export: the work tree $WORK has uncommitted changes (see above); commit them first"
fi
g() { git -C "$WORK" "$@"; }
branch=$(g symbolic-ref -q --short HEAD) ||
	die "HEAD of $WORK is detached; export works from a branch (its description is the cover letter)"
n=$(g rev-list --count "$BASE_TAG..HEAD")
((n > 0)) || die "branch $branch of $WORK has no commits on top of $BASE_TAG: nothing to export"
[[ -z $(g rev-list --merges "$BASE_TAG..HEAD") ]] || die "branch $branch has merge commits; a series must be linear"
g merge-base --is-ancestor "$BASE_TAG" HEAD || die "branch $branch is not based on $BASE_TAG"
[[ -n $(g config "branch.$branch.description" || true) ]] ||
	info "warning: branch $branch has no description; the cover letter will be a template (set it with: git -C $WORK branch --edit-description)"

if [[ -n ${SUBJECT_PREFIX:-} ]]; then
	prefix=$SUBJECT_PREFIX
elif cl=$(cover_letter); then
	prefix=$(subject_prefix "$cl")
else
	prefix=PATCH
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/iommu-export.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Pin the settings that change the bytes of the patches.  The cover letter
# is dated with the committer date of HEAD instead of "now".
GIT_COMMITTER_DATE=$(g log -1 --format=%cD HEAD) g -c core.abbrev=12 -c diff.noprefix=false -c diff.mnemonicPrefix=false \
	-c diff.renames=true -c diff.algorithm=myers -c diff.relative=false \
	-c format.numbered=auto -c format.thread=false -c format.signOff=false \
	format-patch -q --cover-letter --cover-from-description=subject \
	--base="$BASE_TAG" --zero-commit --subject-prefix="$prefix" \
	-o "$tmp/out" "$BASE_TAG..HEAD"
mapfile -t out < <(cd "$tmp/out" && LC_ALL=C ls -- *.patch)
((${#out[@]} == n + 1)) || die "git format-patch wrote ${#out[@]} files for $n commits"
for f in "${out[@]}"; do
	[[ $f == *0000-cover-letter.patch ]] || printf '%s\n' "$f"
done >"$tmp/series"
write_copies "$WORK" HEAD "$tmp/copies"

mkdir -p "$PATCH_DIR"
rm -f "$PATCH_DIR"/*.patch
cp -- "$tmp/out"/*.patch "$PATCH_DIR/"
cp -- "$tmp/series" "$SERIES_FILE"
for d in "${COPY_DIRS[@]}"; do
	mkdir -p "$REPO/$d/$BASE"
	rsync -r --checksum --delete "$tmp/copies/$d/$BASE/" "$REPO/$d/$BASE/"
	find "$REPO/$d" -mindepth 1 -type d -empty -delete
done
info "exported $n patches of $WORK ($branch) to $PATCH_DIR; copies of $(added_files "$WORK" "$BASE_TAG" HEAD | wc -l) added files in drivers-iommu/$BASE/ and include-linux/$BASE/"
exit
}
