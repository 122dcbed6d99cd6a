#!/usr/bin/env node
// The `audience` command: runs the CLI compiled to dist/ by `npm install` (the prepare script) or `npm run build`.
// During development, `npm run cli -- …` runs the TypeScript sources instead.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'The CLI is not built yet: run `npm install` (or `npm run build`) in the project folder.\n',
  );
  process.exit(1);
}
const { runCli } = await import(cli.href);
process.exitCode = await runCli(process.argv);
