// Compiles the workspace (tsc -p tsconfig.build.json, incremental) when a source file is newer
// than the last build, so `npx mw ...` always runs current code.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const stamp = path.join(root, 'dist', '.tsbuildinfo');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

module.exports = function buildIfStale() {
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  const sources = Math.max(newestSource(path.join(root, 'apps')), newestSource(path.join(root, 'libs')), fs.statSync(path.join(root, 'tsconfig.base.json')).mtimeMs);
  if (sources <= built) return;
  process.stderr.write('mw: compiling the workspace (tsc -p tsconfig.build.json)\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  fs.utimesSync(stamp, new Date(), new Date());
};
