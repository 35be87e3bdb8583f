// Fails early, with the fix, when npm scripts run under a Node older than 24 (e.g. after `npm ci --ignore-scripts`,
// which skips the pinned `node` package's install and silently falls back to the system Node).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`error: this project needs Node 24 (found ${process.version}); run \`npm ci\` (with install scripts) so that the pinned node@24 package provides it\n`);
  process.exit(2);
}
