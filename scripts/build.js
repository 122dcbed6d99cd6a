#!/usr/bin/env node
// Compiles src/ and commands/ to dist/ (run by `npm install` through `prepare`, and by `npm run build`), so the
// app and the CLI start as plain JavaScript instead of transpiling TypeScript at every start.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');

function typescriptCompiler() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

const tsc = typescriptCompiler();
if (tsc === null) {
  // A production install (`npm ci --omit=dev`) has no compiler: it runs the dist/ built beforehand.
  if (existsSync(join(dist, 'src', 'cli.js'))) process.exit(0);
  process.stderr.write(
    'dist/ is missing and TypeScript is not installed: run `npm install` (with dev dependencies).\n',
  );
  process.exit(1);
}

// A clean build: a source file deleted or renamed must not leave its old output behind.
rmSync(dist, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

// Plain JavaScript files in src/ (the front door's worker) are loaded by path, so they go beside the output.
function copyScripts(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isDirectory()) copyScripts(source, join(to, entry.name));
    else if (entry.name.endsWith('.mjs')) cpSync(source, join(to, entry.name));
  }
}
copyScripts(join(root, 'src'), join(dist, 'src'));
