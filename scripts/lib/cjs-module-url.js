// Injected into the CommonJS bundles (scripts/build.mjs): what import.meta.url means there.
export const moduleUrl = require('node:url').pathToFileURL(__filename).href
