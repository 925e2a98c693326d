#!/usr/bin/env bash
# Fetch the kernel base (the Debian linux-source package of BASE) into the
# cache and turn it into a git repository with one commit, tagged 'base'.
#
# The package is downloaded with a private apt configuration (own
# sources.list, lists and archives under $CACHE/<base>/apt); the machine's
# apt configuration is neither used nor changed.  Everything is reused when
# present; everything is built in a temporary directory and renamed into
# place last, so an interrupted run leaves nothing that looks valid.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
base_init

mkdir -p "$BASE_DIR"
exec 9>"$BASE_DIR/.fetch.lock"
flock 9 || die "cannot lock $BASE_DIR/.fetch.lock"
# Leftovers of an interrupted run (we hold the lock: nobody else is using them).
find "$BASE_DIR" -maxdepth 1 -name ".fetch.*" ! -name .fetch.lock -exec rm -rf {} +
rm -rf "$BASE_DIR"/deb/.download.*
rm -f "$BASE_DIR/version.tmp"

if have_base; then
	info "base $BASE present: $BASE_PACKAGE $(base_version) in $BASE_GIT"
	exit 0
fi
[[ ! -e $BASE_GIT ]] ||
	die "$BASE_GIT exists but has no $BASE_STAMP stamp (left by an old or foreign run?); remove it and rerun"

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f $keyring ]] || die "$keyring missing (run: make deps)"

APT_DIR=$BASE_DIR/apt
DEB_DIR=$BASE_DIR/deb
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$DEB_DIR"

what="Debian package $BASE_PACKAGE from suite $BASE_SUITE ($BASE_MIRROR $BASE_COMPONENT)"
apt_opts=(
	-o "Dir::Etc::SourceList=$APT_DIR/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$APT_DIR/lists"
	-o "Dir::Cache=$APT_DIR/cache"
	-o Dir::State::status=/dev/null
	-o Dir::Etc::Preferences=/dev/null
	-o Dir::Etc::PreferencesParts=/dev/null
	-o APT::Sandbox::User=root
	-o Acquire::Languages=none
	-o Debug::NoLocking=1
)

deb=$(find "$DEB_DIR" -maxdepth 1 -name "${BASE_PACKAGE}_*.deb" | sort | tail -n 1)
if [[ -n $deb ]]; then
	info "reusing cached $deb"
else
	printf 'deb [signed-by=%s] %s %s %s\n' "$keyring" "$BASE_MIRROR" "$BASE_SUITE" "$BASE_COMPONENT" \
		>"$APT_DIR/sources.list"
	info "apt-get update for $BASE_SUITE ($BASE_MIRROR), private lists in $APT_DIR"
	apt_update "$BASE_MIRROR" "${apt_opts[@]}" ||
		die "apt-get update failed for suite $BASE_SUITE at $BASE_MIRROR (see above); cannot download $what"
	policy=$(apt-cache "${apt_opts[@]}" policy "$BASE_PACKAGE" 2>/dev/null || true)
	cand=$(awk '/Candidate:/ { print $2 }' <<<"$policy")
	[[ -n $cand && $cand != "(none)" ]] ||
		die "package $BASE_PACKAGE not found in suite $BASE_SUITE ($BASE_MIRROR $BASE_COMPONENT): nothing to download"
	info "downloading $BASE_PACKAGE $cand"
	dltmp=$(mktemp -d "$DEB_DIR/.download.XXXXXX")
	if ! (cd "$dltmp" && apt-get -q "${apt_opts[@]}" download "$BASE_PACKAGE=$cand"); then
		rm -rf "$dltmp"
		die "apt-get download failed for $what, version $cand"
	fi
	f=$(find "$dltmp" -maxdepth 1 -name "${BASE_PACKAGE}_*.deb" | head -n 1)
	[[ -n $f ]] || { rm -rf "$dltmp"; die "apt-get download of $what produced no .deb"; }
	dpkg-deb --info "$f" >/dev/null || { rm -rf "$dltmp"; die "downloaded $f is not a valid .deb"; }
	deb=$DEB_DIR/$(basename "$f")
	mv "$f" "$deb"
	rm -rf "$dltmp"
fi

version=$(dpkg-deb -f "$deb" Version)
pkg=$(dpkg-deb -f "$deb" Package)
[[ $pkg == "$BASE_PACKAGE" ]] || die "$deb is package $pkg, expected $BASE_PACKAGE"
printf '%s\n' "$version" >"$BASE_DIR/version.tmp"
mv "$BASE_DIR/version.tmp" "$BASE_DIR/version"

tmp=$(mktemp -d "$BASE_DIR/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
t0=$(now)
info "extracting $deb"
dpkg-deb -x "$deb" "$tmp/deb"
tarball=$tmp/deb/usr/src/$BASE_PACKAGE.tar.xz
[[ -f $tarball ]] || die "$deb has no usr/src/$BASE_PACKAGE.tar.xz"
# The tarball's mtime is the package's build date; the base commit uses it
# (and a fixed identity) so that every machine gets the same commit id.
epoch=$(stat -c %Y "$tarball")
mkdir "$tmp/x"
tar -C "$tmp/x" -xf "$tarball"
rm -rf "$tmp/deb"
src=$tmp/x/$BASE_PACKAGE
[[ -f $src/Makefile && -d $src/drivers/iommu ]] || die "$tarball has no $BASE_PACKAGE/ kernel tree"
info "extracted in $(($(now) - t0)) s"

# Debian appends a stanza ignoring every top-level path except debian/:
#   /*
#   !/debian/
# Drop it so that files added in the work tree are not ignored.
gi_note=
if [[ -f $src/.gitignore ]] && grep -qx '/\*' "$src/.gitignore"; then
	# Delete the "/*" line, the "!/debian/" line and the comment block
	# (with the blank line before it) that introduces them.
	awk '
		{ line[NR] = $0 }
		$0 == "/*" && !start { start = NR }
		END {
			if (!start) { for (i = 1; i <= NR; i++) print line[i]; exit }
			b = start
			while (b > 1 && line[b - 1] ~ /^#/) b--
			while (b > 1 && line[b - 1] == "") b--
			e = start
			if (line[e + 1] == "!/debian/") e++
			for (i = 1; i <= NR; i++) if (i < b || i > e) print line[i]
		}' "$src/.gitignore" >"$tmp/gitignore"
	cat "$tmp/gitignore" >"$src/.gitignore"
	! grep -qx -e '/\*' -e '!/debian/' "$src/.gitignore" || die "could not remove the Debian stanza of .gitignore"
	gi_note='

The top-level .gitignore of the tarball ends with a Debian stanza
("/*" and "!/debian/") that ignores every top-level path; it was removed
so that new files in the work tree are not ignored.'
fi
# The tarball's .gitignore ignores all dot-files (".*") without upstream's
# list of exceptions, so a new drivers/iommu/.kunitconfig would be silently
# left out of "git add -A".  Re-add exceptions for the dot-file names the
# tree has.
if [[ -f $src/.gitignore ]] && grep -qx '\.\*' "$src/.gitignore" && ! grep -qx '!\.kunitconfig' "$src/.gitignore"; then
	{
		printf '\n# Dot-files of the source tree are not ignored (added when importing\n'
		printf '# the Debian tarball; upstream has such a list).\n'
		find "$src" -name '.*' -type f -printf '!%f\n' | LC_ALL=C sort -u
	} >>"$src/.gitignore"
	gi_note="$gi_note

The top-level .gitignore ignores every dot-file (\".*\") without
exceptions; a list of exceptions for the dot-file names of the tree
(.gitignore, .kunitconfig, ...) was appended so that new ones are not
ignored."
fi

t0=$(now)
git init -q --bare "$tmp/base.git"
g() { git --git-dir="$tmp/base.git" --work-tree="$src" "$@"; }
g config gc.auto 0
g config core.abbrev 12
# -f: the tarball has files its own .gitignore rules would skip.
g add -A -f
ident='iommu-series fetch-base'
mail='iommu-series@localhost'
GIT_AUTHOR_NAME=$ident GIT_AUTHOR_EMAIL=$mail GIT_AUTHOR_DATE="@$epoch +0000" \
	GIT_COMMITTER_NAME=$ident GIT_COMMITTER_EMAIL=$mail GIT_COMMITTER_DATE="@$epoch +0000" \
	g -c commit.gpgsign=false commit -q --no-verify -F - <<EOF
$BASE: Debian $BASE_PACKAGE $version

Unpacked from usr/src/$BASE_PACKAGE.tar.xz of the Debian package
$BASE_PACKAGE, version $version, suite $BASE_SUITE
($BASE_MIRROR, component $BASE_COMPONENT).$gi_note
EOF
g tag "$BASE_TAG"
commit=$(g rev-parse HEAD)
info "base commit $commit ($(($(now) - t0)) s)"
printf 'package=%s\nversion=%s\nsuite=%s\nmirror=%s\ncommit=%s\n' \
	"$BASE_PACKAGE" "$version" "$BASE_SUITE" "$BASE_MIRROR" "$commit" >"$tmp/base.git/$BASE_STAMP"
mv "$tmp/base.git" "$BASE_GIT"
info "base $BASE ready: $BASE_PACKAGE $version, commit $commit, in $BASE_GIT"
exit
}
