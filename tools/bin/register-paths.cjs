// Resolves the workspace aliases (@metaweave/<lib>) to the compiled libraries under dist/, the
// runtime twin of the "paths" in tsconfig.base.json. Loaded with `node -r` by the services.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const dist = path.resolve(__dirname, '..', '..', 'dist', 'libs');
const original = Module._resolveFilename;
Module._resolveFilename = function resolve(request, ...rest) {
  if (request.startsWith('@metaweave/')) {
    request = path.join(dist, request.slice('@metaweave/'.length), 'src', 'index.js');
  }
  return original.call(this, request, ...rest);
};
