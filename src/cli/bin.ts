// The installed `aaq` command (package.json "bin"), built by `npm run build:cli` into
// dist-cli/aaq.mjs: runs the command line once and exits with its code.
import { main } from './main';

process.exit(await main(process.argv.slice(2)));
