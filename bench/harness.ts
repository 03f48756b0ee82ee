// What every benchmark needs: fresh throwaway namespaces, timed child processes,
// medians, and bundled workers that start fast. Benchmarks run only inside the
// hermetic runner (`node test/run-hermetic.mjs --bench`), never on the host.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** Scratch space for bundles, route files and results (ignored by git). */
export const OUT = path.join(ROOT, '.bench-out')

/** Refuses to run where a mistake could change the host's networking. */
export function requireHermetic(): void {
  if (process.env.NSNET_HERMETIC !== '1') {
    process.stderr.write('bench: refusing to run outside the hermetic runner; use `npm run bench` ' + '(or `node test/run-hermetic.mjs --bench`)\n')
    process.exit(2)
  }
}

/** Runs a command to completion; throws with its stderr when it fails. */
export function sh(cmd: string, args: readonly string[], opts: { input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, maxBuffer: 256 << 20 })
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || '').trim() || `exit ${r.status}`}`)
  return r.stdout
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export interface Timed {
  /** Wall time from spawn to exit, ms. */
  readonly wallMs: number
  /** CPU time of the process and its children, ms (only with `cpu: true`). */
  readonly userMs?: number
  readonly sysMs?: number
  /** Largest RSS of any one process in the tree, KiB (GNU time %M; only with `cpu: true`). */
  readonly maxRssKb?: number
  readonly stdout: string
  readonly stderr: string
}

const TIME = '/usr/bin/time'
const haveTime = fs.existsSync(TIME)
let timeFileCounter = 0

/**
 * Spawns `argv`, waits for it to exit and returns its wall time. `discardStdout` sends
 * stdout to /dev/null (so the measured process pays for printing, not we for reading).
 * Throws when the process fails.
 */
export function timeProcess(argv: readonly string[], opts: { discardStdout?: boolean; cpu?: boolean } = {}): Promise<Timed> {
  // CPU time comes from GNU time(1), written to a file so it never mixes with the output.
  const cpuFile = opts.cpu && haveTime ? path.join(OUT, `time-${process.pid}-${++timeFileCounter}.txt`) : undefined
  const full = cpuFile ? [TIME, '-f', '%U %S %M', '-o', cpuFile, ...argv] : argv
  return new Promise((resolve, reject) => {
    const devnull = opts.discardStdout ? fs.openSync('/dev/null', 'w') : undefined
    const t0 = process.hrtime.bigint()
    const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', devnull ?? 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr!.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e) => {
      if (devnull !== undefined) fs.closeSync(devnull)
      reject(e)
    })
    child.on('close', (code, sig) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
      if (devnull !== undefined) fs.closeSync(devnull)
      const stdout = Buffer.concat(out).toString('utf8')
      const stderr = Buffer.concat(err).toString('utf8')
      let cpu: { userMs?: number; sysMs?: number; maxRssKb?: number } = {}
      if (cpuFile) {
        const [u, s, m] = fs.readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
        fs.rmSync(cpuFile, { force: true })
        if (Number.isFinite(u) && Number.isFinite(s)) cpu = { userMs: u! * 1000, sysMs: s! * 1000, ...(Number.isFinite(m) ? { maxRssKb: m } : {}) }
      }
      if (code !== 0) {
        reject(new Error(`${argv.join(' ')} failed (${code ?? sig}): ${stderr.trim().slice(-2000)}`))
      } else {
        resolve({ wallMs, ...cpu, stdout, stderr })
      }
    })
  })
}

/** The last line of a worker's stdout, parsed as JSON (workers print exactly one result line). */
export function workerResult<T>(t: Timed, what: string): T {
  const line = t.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as T
  } catch {
    throw new Error(`${what}: worker printed no JSON result; stdout: ${t.stdout.slice(-500)} stderr: ${t.stderr.slice(-1500)}`)
  }
}

let nsCounter = 0

/** The veth every route benchmark routes through: gateway 10.255.0.2 on dev bv0 (10.255.0.1/16). */
export const VETH = { dev: 'bv0', peer: 'bv1', address: '10.255.0.1/16', gateway: '10.255.0.2' } as const

/**
 * A fresh named network namespace (`ip netns add`), optionally with the benchmark veth
 * pair up and addressed. Deleted with delete() (also when a measurement fails).
 */
export class Netns {
  private deleted = false
  private constructor(readonly name: string) {}

  static create(prefix = 'nsb', opts: { veth?: boolean } = {}): Netns {
    const ns = new Netns(`${prefix}-${process.pid}-${++nsCounter}`)
    sh('ip', ['netns', 'add', ns.name])
    try {
      ns.ip('link', 'set', 'lo', 'up')
      if (opts.veth) {
        ns.ip('link', 'add', VETH.dev, 'type', 'veth', 'peer', 'name', VETH.peer)
        ns.ip('addr', 'add', VETH.address, 'dev', VETH.dev)
        ns.ip('link', 'set', VETH.dev, 'up')
        ns.ip('link', 'set', VETH.peer, 'up')
      }
    } catch (e) {
      ns.delete()
      throw e
    }
    return ns
  }

  /** `ip -n NAME ...`, synchronously; returns stdout. */
  ip(...args: string[]): string {
    return sh('ip', ['-n', this.name, ...args])
  }

  /** argv prefixed so that it runs inside this namespace. */
  exec(argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...argv]
  }

  /**
   * Checks table main holds exactly the expected benchmark routes (every route via the
   * benchmark gateway, and each destination once); returns how many it found.
   */
  verifyRoutes(expected: readonly string[]): { found: number; ok: boolean; problem?: string } {
    if (!this.exists()) return { found: 0, ok: false, problem: `namespace ${this.name} vanished during the measurement` }
    const out = this.ip('-4', 'route', 'show', 'table', 'main')
    const want = new Set(expected.map((d) => (d.endsWith('/32') ? d.slice(0, -3) : d)))
    const seen = new Set<string>()
    let found = 0
    let stray: string | undefined
    for (const line of out.split('\n')) {
      if (!line.includes(` via ${VETH.gateway} `)) continue
      found++
      const dst = line.slice(0, line.indexOf(' '))
      if (!want.has(dst) && stray === undefined) stray = dst
      seen.add(dst)
    }
    if (found !== want.size) return { found, ok: false, problem: `expected ${want.size} routes via ${VETH.gateway}, found ${found}` }
    if (stray !== undefined) return { found, ok: false, problem: `unexpected destination ${stray}` }
    if (seen.size !== want.size) return { found, ok: false, problem: `only ${seen.size} distinct destinations` }
    return { found, ok: true }
  }

  /** True while /run/netns/NAME exists (something else may have removed it). */
  exists(): boolean {
    return fs.existsSync(path.join('/run/netns', this.name))
  }

  /** Deletes the namespace; one that is already gone is not an error (returns false). */
  delete(): boolean {
    if (this.deleted) return false
    this.deleted = true
    if (!this.exists()) return false
    sh('ip', ['netns', 'del', this.name])
    return true
  }
}

/**
 * Bundles a TypeScript entry into .bench-out/workers/NAME.mjs with esbuild, so a worker starts
 * in ~50 ms instead of paying tsx's compile on every run. `netlink` (native) stays external.
 */
export async function bundle(entry: string, name: string): Promise<string> {
  const { build } = await import('esbuild')
  const outfile = path.join(OUT, 'workers', `${name}.mjs`)
  await build({
    entryPoints: [path.join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['netlink'],
    sourcemap: 'linked',
    logLevel: 'warning',
    // Bundled CommonJS deps may call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  })
  return outfile
}

/** Start-up cost of a process that does nothing, median of `n` runs, to subtract from wall times. */
export async function startupMs(argv: readonly string[], n = 5, opts: { cpu?: boolean } = {}): Promise<number> {
  const xs: number[] = []
  for (let i = 0; i < n; i++) xs.push((await timeProcess(argv, { discardStdout: true, cpu: opts.cpu })).wallMs)
  return median(xs)
}

/** 1-minute load average and a warning when other work competes for the CPUs. */
export function machineLoad(): { load1: number; cpus: number; busy: boolean } {
  const load1 = os.loadavg()[0]!
  const cpus = os.cpus().length
  return { load1, cpus, busy: load1 > cpus * 0.5 }
}
