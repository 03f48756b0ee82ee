// Shared by the netns tests: a fresh helper bundle, and `ip` as the independent oracle.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
export const helperBundle = `${root}dist/helper.js`

function newestSource(dir: string): number {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** Whether the bundle at `path` starts and answers a real rtnetlink request (in this namespace). */
function bundleWorks(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [path, 'probe'], { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000)
    c.stdout.setEncoding('utf8').on('data', (t: string) => {
      out += t
      if (/\n\{"id":1,/.test(out)) c.stdin.end()
    })
    c.stdin.write('{"id":1,"op":"links.list","args":[]}\n')
    c.on('close', () => {
      clearTimeout(timer)
      resolve(/^\{"ready":true\}\n\{"id":1,"result":\[/.test(out))
    })
  })
}

/**
 * A private, verified copy of dist/helper.js and its chunks, which the tests use through
 * $NSNET_HELPER. Built first when missing or older than src/ (`npm test` builds before the
 * runner; a lone run may not have). Private, because other work in the same tree rebuilds
 * dist/ at any time, and a helper starting during a rebuild could read half of one.
 */
export async function ensureHelperBundle(): Promise<string> {
  const copy = `${root}dist/.test-helper-${process.pid}-${randomUUID().slice(0, 8)}`
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0 || !existsSync(helperBundle) || statSync(helperBundle).mtimeMs < newestSource(`${root}src`)) {
      execFileSync(process.execPath, [`${root}scripts/build.mjs`], { cwd: root, stdio: 'inherit' })
    }
    rmSync(copy, { recursive: true, force: true })
    mkdirSync(copy)
    cpSync(helperBundle, `${copy}/helper.js`)
    // The chunks it imports (dist/chunks/, shared by every entry), without their source maps.
    if (existsSync(`${root}dist/chunks`)) cpSync(`${root}dist/chunks`, `${copy}/chunks`, { recursive: true, filter: (f) => !f.endsWith('.map') })
    if (await bundleWorks(`${copy}/helper.js`)) break
    if (attempt >= 3) throw new Error(`dist/helper.js does not start or answer (copied to ${copy})`)
  }
  process.env.NSNET_HELPER = `${copy}/helper.js`
  process.once('exit', () => rmSync(copy, { recursive: true, force: true }))
  return `${copy}/helper.js`
}

/** Runs `ip ...` and returns stdout; throws with stderr on failure. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** `ip -j ...` parsed. */
export function ipj<T = unknown>(...args: string[]): T {
  const out = ip('-j', ...args).trim()
  return (out ? JSON.parse(out) : []) as T
}

/** Runs `ip ...`; returns status and output instead of throwing. */
export function ipTry(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

export function runNetnsEntries(): string[] {
  try {
    return readdirSync('/run/netns').sort()
  } catch {
    return []
  }
}

/** Whether `pid` is alive (not gone, not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `cond` every 5 ms until it holds or `ms` passed; returns whether it held. */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await sleep(5)
  }
  return cond()
}
