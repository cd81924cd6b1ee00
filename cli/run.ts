/** Entry for running the CLI directly with tsx (tests, `npx tsx cli/run.ts ...`); `bin/cityloop.mjs` does the same. */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
