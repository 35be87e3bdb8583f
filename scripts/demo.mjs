// `npm run demo`: the README's first command on a fresh clone. npm runs this file with whatever `node`
// it finds, which is the system's (possibly Node 20) until `npm ci` has installed the project's Node 24,
// so this part is plain JavaScript: install what is missing, then hand over to scripts/demo.ts under Node 24.
import {ensureDebianPackages, ensureNode24, runUnderNode24} from './bootstrap.mjs';

ensureNode24('demo');
ensureDebianPackages('demo');
runUnderNode24('scripts/demo.ts', process.argv.slice(2));
