// `npm run sandbox -- --kubeconfig PATH`: like `npm run demo`, installs what a fresh clone lacks (npm
// dependencies with Node 24, the Debian packages of the test world), then runs scripts/sandbox.ts under Node 24.
import {ensureDebianPackages, ensureNode24, runUnderNode24} from './bootstrap.mjs';

ensureNode24('sandbox');
ensureDebianPackages('sandbox');
runUnderNode24('scripts/sandbox.ts', process.argv.slice(2));
