#!/usr/bin/env node
// The CLI runs its TypeScript directly on Node 24, which the package brings (the node@24
// dependency); `npm exec -- kvmfornfv-test` puts that Node first on PATH.
import { readFileSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `kvmfornfv-test needs Node.js 24 or later, found ${process.version}; run it as "npm exec -- kvmfornfv-test" after "npm ci", which uses the Node 24 the package installs\n`,
  );
  process.exit(2);
}

// After an abort the terminal or the pipe that read the output may be gone (SIGHUP, a killed
// CI runner): a failed write must not kill the harness before it has cleaned up the pod.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

// npm runs a bin through its script-shell. When that shell forks instead of exec'ing (dash, npm's
// default `sh` on Debian), the shell stands between npm and the harness and a signal sent to npm
// dies with it: say so, since only the loss of the caller can then abort the run.
if (process.env.npm_lifecycle_event === 'npx') {
  let parent = '';
  try {
    parent = readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim();
  } catch {
    // Not Linux, or the parent is already gone.
  }
  if (/^(sh|dash|ash|busybox)$/.test(parent)) {
    process.stderr.write(
      `kvmfornfv-test: npm started this through ${parent}, which does not pass signals on; the run still aborts when npm goes away, but npm will not wait for the cleanup. Use npm's script-shell=bash (this repository's .npmrc sets it)\n`,
    );
  }
}

const { main } = await import('../lib/cli/main.ts');
await main(process.argv.slice(2));
