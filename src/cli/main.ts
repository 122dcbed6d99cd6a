// The entry point of the `audience` command (bin/audience.js runs its build in dist/).
import { runCli } from '../cli.ts';

process.exitCode = await runCli(process.argv);
