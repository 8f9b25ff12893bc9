// Checks the packed tarballs of the publishable packages (called by .ci/release-dry-run.sh):
//   node .ci/check-tarballs.mjs <folder with the .tgz files> <workspace root the packages came from>
// Each tarball must hold package.json, README.md, CHANGELOG.md and LICENSE; every file that main,
// module, types, bin and exports name; no `workspace:` range left in its dependencies; the version
// and the repository metadata of the package's package.json; and source maps whose sources stay
// inside the package (no absolute paths, no pnpm store folders). Exits 1 with one line per problem.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [dir, root] = process.argv.slice(2);
if (!dir || !root) {
  console.error('usage: node .ci/check-tarballs.mjs <tarball folder> <workspace root>');
  process.exit(2);
}

const problems = [];
const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
if (tarballs.length === 0) problems.push(`${dir}: no tarballs`);

/** Every file path a package.json field names (strings anywhere in exports/bin). */
function namedFiles(pkg) {
  const out = [];
  const walk = (v) => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  for (const key of ['main', 'module', 'types', 'typings', 'bin', 'exports']) walk(pkg[key]);
  return out.filter((f) => f.startsWith('./') || !f.includes(':')).map((f) => path.posix.normalize(f));
}

for (const file of tarballs) {
  const tgz = path.join(dir, file);
  const entries = new Set(
    execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((e) => e.replace(/^package\//, '')),
  );
  const read = (entry) => execFileSync('tar', ['xzf', tgz, '-O', `package/${entry}`], { encoding: 'utf8' });
  const say = (msg) => problems.push(`${file}: ${msg}`);
  if (!entries.has('package.json')) {
    say('no package.json');
    continue;
  }
  const pkg = JSON.parse(read('package.json'));
  for (const required of ['README.md', 'CHANGELOG.md', 'LICENSE']) {
    if (!entries.has(required)) say(`no ${required}`);
  }
  if (entries.has('LICENSE') && !read('LICENSE').includes('Copyright (c) 2026 the sdekit authors')) {
    say('LICENSE lacks the copyright line');
  }
  for (const named of namedFiles(pkg)) {
    if (!entries.has(named)) say(`package.json names ${named}, which is not in the tarball`);
  }
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (String(range).startsWith('workspace:')) say(`${field}.${name} is still ${range}`);
    }
  }
  const folder = pkg.repository?.directory;
  if (pkg.license !== 'MIT') say(`license is ${pkg.license}`);
  if (!folder) say('repository.directory is missing');
  if (!pkg.homepage || !pkg.bugs?.url) say('homepage or bugs is missing');
  if (folder) {
    const source = JSON.parse(readFileSync(path.join(root, folder, 'package.json'), 'utf8'));
    if (source.name !== pkg.name || source.version !== pkg.version) {
      say(`is ${pkg.name}@${pkg.version}, but ${folder}/package.json is ${source.name}@${source.version}`);
    }
  }
  for (const entry of entries) {
    if (!entry.endsWith('.map')) continue;
    const map = JSON.parse(read(entry));
    for (const s of map.sources ?? []) {
      const inside = path.posix.normalize(path.posix.join(path.posix.dirname(entry), s));
      if (path.posix.isAbsolute(s) || inside.startsWith('../') || s.includes('/.pnpm/')) {
        say(`${entry}: source ${s} lies outside the package`);
      }
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(`check-tarballs: ${p}`);
  process.exit(1);
}
console.log(`check-tarballs: ${tarballs.length} tarballs OK`);
