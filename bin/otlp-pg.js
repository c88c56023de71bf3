#!/usr/bin/env node
// The compiled CLI: `npm run build` makes dist/, and `npm start` builds first.
import '../dist/cli/index.js';
