// How to start one of nsnet's own entry points (the sandbox supervisor, the services
// run inside namespaces) as a separate node process, wherever the library is running
// from: compiled files, the dist/ bundles, or TypeScript sources under tsx.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { NsnetError } from '../netlink/errors.js'

/**
 * argv that runs the module `sibling` (a URL next to the caller, written with its `.js`
 * name) or the bundle `dist/<bundle>.js`, with node.
 */
export function nodeEntry(sibling: URL, bundle: string): string[] {
  const js = fileURLToPath(sibling)
  if (existsSync(js)) return [process.execPath, js]
  for (const rel of [`./${bundle}.js`, `../${bundle}.js`, `../../dist/${bundle}.js`]) {
    const p = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(p)) return [process.execPath, p]
  }
  const ts = js.replace(/\.js$/, '.ts')
  if (existsSync(ts)) {
    let loader: string
    try {
      loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    } catch {
      throw new NsnetError(`cannot run ${ts}: the tsx loader is not installed and dist/${bundle}.js is missing`, {
        code: 'ENOENT',
        operation: 'nodeEntry',
        hint: 'run `npm run build` or install tsx',
      })
    }
    return [process.execPath, '--import', loader, ts]
  }
  throw new NsnetError(`cannot find ${js} nor dist/${bundle}.js`, { code: 'ENOENT', operation: 'nodeEntry', hint: 'run `npm run build`' })
}
