#!/usr/bin/env node
/**
 * Builds the publishable npm package into dist/package/ (and, with --pack, its tarball into dist/):
 *
 *   node scripts/build-package.mjs          # npm run build:package
 *   node scripts/build-package.mjs --pack   # npm run pack:package -> dist/nestjs-tenant-jobs-<version>.tgz
 *
 * The folder holds CommonJS JavaScript and .d.ts compiled from libs/jobs/src by libs/jobs/tsconfig.lib.json
 * (no source maps: nothing would point at shipped sources), libs/jobs/package.json as it is (its main,
 * types and exports name the compiled files), the root README (relative repository links turned into
 * plain text, since they would be dead on the registry), LICENSE and CHANGELOG.md, and the dashboard's
 * static files (libs/jobs/src/dashboard/assets/, served from beside the compiled module). It refuses to finish if
 * anything else ended up inside: specs, fixtures, the bench or stray files would otherwise ship.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'package');
const pack = process.argv.includes('--pack');

rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'libs/jobs/tsconfig.lib.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

const manifest = JSON.parse(readFileSync(join(root, 'libs/jobs/package.json'), 'utf8'));
writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(join(out, 'README.md'), forRegistry(readFileSync(join(root, 'README.md'), 'utf8')));
copyFileSync(join(root, 'LICENSE'), join(out, 'LICENSE'));
copyFileSync(join(root, 'CHANGELOG.md'), join(out, 'CHANGELOG.md'));
// The dashboard serves its stylesheet and script from `assets/` beside dashboard-assets.js.
const assets = 'dashboard/assets';
cpSync(join(root, 'libs/jobs/src', assets), join(out, assets), { recursive: true });

// Only compiled code, the four documents and the dashboard's assets may ship.
const allowed = new Set(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']);
for (const file of files(join(out, assets))) allowed.add(relative(out, file));
const unexpected = files(out)
  .map((file) => relative(out, file))
  .filter((file) => !allowed.has(file))
  .filter((file) => !/\.(js|d\.ts)$/.test(file) || /spec|fixture|bench|\.test\./i.test(file));
if (unexpected.length > 0) {
  throw new Error(`dist/package holds files that must not ship:\n  ${unexpected.join('\n  ')}`);
}
for (const target of [manifest.main, manifest.types, ...exportTargets(manifest.exports)]) {
  readFileSync(join(out, target)); // throws ENOENT for an entry point the build did not produce
}
console.log(`Built ${manifest.name}@${manifest.version} in ${relative(root, out)}/`);

if (pack) {
  const tarball = execFileSync('npm', ['pack', '--pack-destination', '..', '--silent'], {
    cwd: out,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  console.log(`Packed dist/${tarball}`);
}

/** Every file under `dir`, recursively. */
function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** The file paths named anywhere in an `exports` map. */
function exportTargets(exports) {
  if (typeof exports === 'string') return [exports];
  return Object.values(exports ?? {}).flatMap(exportTargets);
}

/**
 * The README as the registry shows it: links and images relative to the repository (bench charts,
 * source files) have no target there, so images go and links keep their text. Anchors and absolute
 * URLs stay.
 */
function forRegistry(markdown) {
  const relativeTarget = (target) => !/^(#|[a-z][a-z0-9+.-]*:)/i.test(target);
  return markdown
    .replace(/^!\[[^\]]*\]\(([^)]+)\)\n\n?/gm, (all, target) => (relativeTarget(target) ? '' : all))
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (all, text, target) =>
      relativeTarget(target) ? text : all,
    );
}
