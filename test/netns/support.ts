// Shared by the netns tests: a fresh helper bundle, and `ip` as the independent oracle.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
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

/** Makes sure dist/helper.js exists and is newer than src/ (`npm test` builds first; a lone run may not have). */
export async function ensureHelperBundle(): Promise<string> {
  if (!existsSync(helperBundle) || statSync(helperBundle).mtimeMs < newestSource(`${root}src`)) {
    execFileSync(process.execPath, [`${root}scripts/build.mjs`], { cwd: root, stdio: 'inherit' })
  }
  return helperBundle
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
  try { return readdirSync('/run/netns').sort() } catch { return [] }
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
