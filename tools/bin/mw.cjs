#!/usr/bin/env node
// The operator's command line: `npx mw --help`. Source: apps/mw/src.
'use strict';
const path = require('node:path');
require('./build-if-stale.cjs')();
require('./register-paths.cjs');
require(path.resolve(__dirname, '..', '..', 'dist', 'apps', 'mw', 'src', 'main.js'));
