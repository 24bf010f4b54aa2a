#!/usr/bin/env node
// The `formcall` command of the published package: plain JavaScript, no loader. A TypeScript methods module is
// loaded through tsx when it is installed (see dist/import-module.js).
import '../dist/cli.js'
