// Runs a small TypeScript program in a child Node process (via tsx), for tests whose failure
// mode is the death of the process (a receive-buffer overflow aborts inside the netlink binding)
// or whose subject is the process itself (does it exit when idle? what does it print?).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: tsx resolves from there, and child programs import `${ROOT}/src/...`. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '')

export interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Runs `source` (an ES module in TypeScript) and resolves when the process ends, or kills it after `timeoutMs`. */
export function runChild(source: string, opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nsnet-child-'))
  const file = join(dir, 'main.mts')
  writeFileSync(file, source)
  const env = { ...process.env, ...opts.env }
  if (!opts.env || !('NSNET_DEBUG' in opts.env)) delete env.NSNET_DEBUG
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = '',
      stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', (e) => {
      clearTimeout(timer)
      rmSync(dir, { recursive: true, force: true })
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      rmSync(dir, { recursive: true, force: true })
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
  })
}

/**
 * Runs `source` (tsx -e) until it prints its first line, SIGKILLs it and resolves with that
 * line parsed as JSON: for tests of what a dead owner leaves behind.
 */
export async function killAfterFirstLine<T>(source: string): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', source], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d
      if (out.includes('\n')) resolve(out.split('\n')[0]!)
    })
    child.on('exit', (c) => reject(new Error(`child exited ${c} before it printed its line`)))
  })
  child.kill('SIGKILL')
  await new Promise((r) => child.once('exit', r))
  return JSON.parse(line) as T
}
