#!/usr/bin/env bash
# Release dry run, called by .ci/run after the tests: would `changeset version` + publishing succeed
# now? It never modifies the checkout.
#
# Design. The release steps rewrite files (`changeset version` bumps versions, writes CHANGELOGs and
# deletes the changesets), so they run on a throw-away copy in a temporary folder:
#   1. The copy holds the working tree's files that git tracks or does not ignore (on CI's clean
#      clone: exactly HEAD), plus each package's dist/ from this checkout, which `pnpm test` has
#      just built from those same sources (publishing packs dist/; rebuilding in the copy would cost
#      minutes for the same bytes). A publishable package without dist/ is an error: build first.
#   2. `pnpm install --frozen-lockfile --offline --ignore-scripts` in the copy: the lockfile must
#      still match, everything comes from the local store that the main install filled (no network,
#      no install scripts such as tfjs-node's libtensorflow download).
#   3. `changeset version` (the pinned @changesets/cli of the lockfile). With no pending changeset it
#      changes nothing, which is fine.
#   4. `pnpm -r pack` of every publishable package, then .ci/check-tarballs.mjs on the tarballs
#      (entry points, LICENSE, no workspace: ranges left, versions as bumped, source maps).
#   5. `pnpm -r publish --dry-run --no-git-checks`: pnpm's own publish path (workspace ranges
#      replaced, lifecycle scripts, private packages skipped) without uploading anything.
# Any failing step fails the script (set -e, pipefail); the copy is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pnpm=(npx -y pnpm@12.21.0)
export CI=true

work=$(mktemp -d "${TMPDIR:-/tmp}/sdekit-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "release dry run in $work"

# 1. The copy: files git knows of (tracked or not ignored, still present), then the built dist/.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar -C "$root" --null -T - -cf - | tar -C "$work" -xf -
for manifest in packages/*/package.json; do
  pkg=$(dirname "$manifest")
  if [ "$(node -p "Boolean(require('./$manifest').private)")" = true ]; then continue; fi
  if [ ! -d "$pkg/dist" ]; then
    echo "release dry run: $pkg/dist is missing; build first (pnpm build)" >&2
    exit 1
  fi
  cp -R "$pkg/dist" "$work/$pkg/dist"
done

cd "$work"
# 2. Dependencies from the local store only.
"${pnpm[@]}" install --frozen-lockfile --offline --ignore-scripts --reporter=silent
# 3. Versions and changelogs.
"${pnpm[@]}" exec changeset version
for manifest in packages/*/package.json; do node -p "const p = require('./$manifest'); p.name + '@' + p.version"; done
# 4. Pack and check the tarballs.
mkdir "$work/.tarballs"
"${pnpm[@]}" -r --filter './packages/*' pack --pack-destination "$work/.tarballs" >/dev/null
node "$root/.ci/check-tarballs.mjs" "$work/.tarballs" "$work"
# 5. pnpm's publish, without uploading.
"${pnpm[@]}" -r publish --dry-run --no-git-checks
echo "release dry run: OK"
