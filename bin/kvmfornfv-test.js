#!/usr/bin/env node
import('../lib/cli/main.ts').then((m) => m.main(process.argv.slice(2)));
