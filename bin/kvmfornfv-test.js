#!/usr/bin/env node
// The CLI runs its TypeScript directly on Node 24, which the package brings (the node@24
// dependency); `npm exec -- kvmfornfv-test` puts that Node first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `kvmfornfv-test needs Node.js 24 or later, found ${process.version}; run it as "npm exec -- kvmfornfv-test" after "npm ci", which uses the Node 24 the package installs\n`,
  );
  process.exit(2);
}
const { main } = await import('../lib/cli/main.ts');
await main(process.argv.slice(2));
