// The one tsup setup of every publishable package: ESM + CJS + declarations for Node 20. Sibling
// @sdekit packages and TensorFlow.js stay external, so a user's program holds one tfjs-core instance
// (its kernel and gradient registries are shared) and one copy of each sdekit package.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Options } from 'tsup';

type TsupPlugin = NonNullable<Options['plugins']>[number];

/**
 * Source maps that name no path of the machine that built them. esbuild writes `sources` relative to
 * the map (`../src/x.ts`, with `sourcesContent`), but a module bundled from node_modules (d3 in
 * @sdekit/cli, tsup's CJS shim of `import.meta.url`) is named by its pnpm store path outside the
 * package (`../../../node_modules/.pnpm/d3-array@3.2.5/node_modules/d3-array/...`). Such a source is
 * renamed to the package's own `node_modules/<module>/...` (the store folder dropped); its text stays
 * in `sourcesContent`. A source outside the package that is not in a node_modules folder fails the
 * build. Runs after tsup has written each format's files.
 */
export function packageRelativeSourceMaps(): TsupPlugin {
  return {
    name: 'sdekit-package-relative-source-maps',
    async buildEnd({ writtenFiles }) {
      const root = process.cwd();
      for (const file of writtenFiles) {
        if (!file.name.endsWith('.map')) continue;
        const mapPath = path.resolve(root, file.name);
        const map = JSON.parse(await readFile(mapPath, 'utf8')) as { sources: string[] };
        let changed = false;
        map.sources = map.sources.map((source) => {
          const absolute = path.resolve(path.dirname(mapPath), source);
          const rel = path.relative(root, absolute);
          const inside = !path.isAbsolute(source) && rel !== '..' && !rel.startsWith(`..${path.sep}`);
          if (inside && !path.isAbsolute(rel)) return source;
          const parts = absolute.split(path.sep);
          const last = parts.lastIndexOf('node_modules');
          if (last < 0) {
            throw new Error(`${file.name}: source ${source} lies outside the package ${root}`);
          }
          changed = true;
          const inPackage = path.join(root, 'node_modules', ...parts.slice(last + 1));
          return path.relative(path.dirname(mapPath), inPackage).split(path.sep).join('/');
        });
        if (changed) await writeFile(mapPath, JSON.stringify(map));
      }
    },
  };
}

/**
 * Settings every build shares (libraries and the private benchmark binary). `keepNames`: classes
 * and functions keep their names in the bundle (`Matrix.name === 'Matrix'`, not esbuild's `_Matrix`
 * for a class with static members), which error names (`new.target.name`) and messages rely on.
 */
export const baseOptions: Options = {
  sourcemap: true,
  clean: true,
  target: 'node20',
  keepNames: true,
  plugins: [packageRelativeSourceMaps()],
};

export const libraryOptions: Options = {
  ...baseOptions,
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  external: [/^@tensorflow\//, /^@sdekit\//],
};
