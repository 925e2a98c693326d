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
lock 5 "$WORK.lock" "the work tree $WORK"
ensure_worktree "$WORK"
! op_in_progress "$WORK" || die "a git am/rebase/merge is in progress in the work tree $WORK; finish it first"
if [[ -n $(dirty "$WORK") ]]; then
	git -C "$WORK" status --short | head -n 20 >&2
	die "refusing to export: the work tree $WORK has uncommitted changes (see above); commit them first"
fi
# The repo's copies of the series must not hold work of their own: export
# replaces them.
repo_paths=("patches/$BASE" "${COPY_DIRS[@]/%//$BASE}")
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 &&
	[[ -n $(git -C "$REPO" status --porcelain --untracked-files=all -- "${repo_paths[@]}") ]]; then
	git -C "$REPO" status --short -- "${repo_paths[@]}" | head -n 20 >&2
	die "refusing to export: ${repo_paths[*]} of $REPO have uncommitted changes (see above) that the export would overwrite; commit or stash them first (nothing was changed)"
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

# Recipients, as the list expects them: To the maintainers and Cc the
# reviewers and lists that scripts/get_maintainer.pl of the tree names for
# each patch; the cover letter goes to all of them.
recipients() { # OPTIONS FILE...
	local o=$1
	shift
	# --no-fixes: the authors of the commits a Fixes: tag names are looked
	# up in git, which the Debian import of the base does not have; the
	# patches Cc them in their own trailers.
	# shellcheck disable=SC2086 # o holds several options
	(cd "$WORK" && perl scripts/get_maintainer.pl --norolestats --no-git --no-git-fallback --no-fixes $o "$@") |
		awk 'NF && !seen[$0]++'
}
# add_header FILE NAME ADDRESS...: a NAME: header (folded) before the end
# of FILE's mail header.
add_header() {
	local f=$1 name=$2
	shift 2
	(($#)) || return 0
	awk -v name="$name" -v list="$(printf '%s\n' "$@")" '
		!done && $0 == "" {
			n = split(list, a, "\n"); line = name ":"
			for (i = 1; i <= n; i++) {
				if (a[i] == "") continue
				sep = (line == name ":") ? " " : ", "
				if (length(line sep a[i]) > 76 && line != name ":") { print line ","; line = " " a[i] }
				else line = line sep a[i]
			}
			print line; done = 1
		}
		{ print }' "$f" >"$f.new"
	mv "$f.new" "$f"
}
all_patches=()
for f in "${out[@]}"; do
	[[ $f == *0000-cover-letter.patch ]] || all_patches+=("$tmp/out/$f")
done
for f in "${out[@]}"; do
	if [[ $f == *0000-cover-letter.patch ]]; then
		set -- "${all_patches[@]}"
	else
		set -- "$tmp/out/$f"
	fi
	to_s=$(recipients '--m --no-r --no-l' "$@") || die "scripts/get_maintainer.pl of $WORK failed on $f"
	cc_s=$(recipients '--no-m --r --l' "$@") || die "scripts/get_maintainer.pl of $WORK failed on $f"
	mapfile -t to <<<"$to_s"
	mapfile -t cc <<<"$cc_s"
	add_header "$tmp/out/$f" To "${to[@]}"
	add_header "$tmp/out/$f" Cc "${cc[@]}"
done

# The upstream release the Debian base corresponds to, next to the
# base-commit line (the commit of the Debian import is not public).
upstream=$(awk -F' = ' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
	$1 == "SUBLEVEL" { s = $2 } END { printf "v%s.%s", v, p; if (s != "" && s != "0") printf ".%s", s }' \
	<(g show "$BASE_TAG:Makefile" | head -n 10))
sed -i "s|^base-commit: \(.*\)$|base-commit: \1\nbase-version: $upstream (Debian $BASE_PACKAGE $(base_version) imported as the commit above)|" \
	"$tmp/out"/*0000-cover-letter.patch
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
