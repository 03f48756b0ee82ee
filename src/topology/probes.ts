// Connectivity checks between namespaces: ping (iputils where installed, else a TCP probe
// that needs no server), TCP/UDP echo servers and clients, and name resolution as libc
// sees it. `where` is a namespace name, or null for the caller's own namespace.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { NsnetError } from '../netlink/errors.js'
import { type ExecOptions, type ExecResult, resolveProgram, runCommand, spawnIn } from '../netns/exec.js'
import { netns } from '../netns/index.js'
import { nodeEntry } from '../sandbox/entry.js'
import type { DnsRecords } from './dns.js'
import { type EchoResult, reach, tcpEcho, udpEcho } from './sockets.js'

/** A namespace name, or null for the namespace this process runs in. */
export type Where = string | null

const label = (w: Where) => (w === null ? 'the current namespace' : `netns ${w}`)

/** argv of the service entry point with `args`. */
export function serviceArgv(args: readonly string[]): string[] {
  return [...nodeEntry(new URL('./service.js', import.meta.url), 'service'), ...args]
}

/** Runs argv to completion in `where`, as `ip netns exec` does. */
export function execWhere(where: Where, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  if (where !== null) return netns.exec(where, argv, opts)
  resolveProgram(argv[0]!, undefined, 'exec')
  return runCommand(argv, opts, { operation: 'exec', program: argv[0]! })
}

/** Starts argv in `where` with piped stdio, in its own process group. */
export function spawnWhere(where: Where, argv: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const opts = { stdio: 'pipe' as const, detached: true, env: env ? { ...process.env, ...env } : undefined }
  if (where !== null) return spawnIn(where, argv, opts)
  resolveProgram(argv[0]!, undefined, 'spawn')
  return spawn(argv[0]!, argv.slice(1), opts)
}

let pingPath: string | null | undefined
function hasPing(): boolean {
  if (pingPath === undefined) {
    try {
      pingPath = resolveProgram('ping', undefined, 'ping')
    } catch {
      pingPath = null
    }
  }
  return pingPath !== null
}

export interface PingResult {
  readonly ok: boolean
  readonly from: string
  readonly to: string
  /** iputils `ping`, or `tcp` (connect to port 9: an answer or a refusal proves reachability). */
  readonly method: 'ping' | 'tcp'
  readonly rttMs?: number
  /** What ping printed, or how the probe ended. */
  readonly detail: string
}

export interface PingOptions {
  readonly count?: number
  /** Per-reply wait in ms (default 1000). */
  readonly timeoutMs?: number
  readonly method?: 'auto' | 'ping' | 'tcp'
}

/** `ip netns exec FROM ping -c1 -W1 TO`, or the TCP probe where ping is missing. */
export async function ping(where: Where, to: string, opts: PingOptions = {}): Promise<PingResult> {
  const method = opts.method === 'tcp' || (opts.method !== 'ping' && !hasPing()) ? 'tcp' : 'ping'
  const timeoutMs = opts.timeoutMs ?? 1000
  const from = label(where)
  if (method === 'ping') {
    const count = opts.count ?? 1
    const wait = Math.max(1, Math.ceil(timeoutMs / 1000))
    const r = await execWhere(where, ['ping', '-n', '-q', '-c', String(count), '-W', String(wait), to], { timeoutMs: count * (timeoutMs + 1000) + 2000 })
    const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.stdout)
    return {
      ok: r.code === 0,
      from,
      to,
      method,
      ...(rtt ? { rttMs: Number(rtt[1]) } : {}),
      detail: (r.stdout.split('\n').find((l) => /packets transmitted/.test(l)) ?? r.stderr.trim()) || `exit ${r.code}`,
    }
  }
  if (where === null) {
    const r = await reach(to, { timeoutMs })
    return { ok: r.reachable, from, to, method, ...(r.rttMs !== undefined ? { rttMs: r.rttMs } : {}), detail: r.how }
  }
  const r = await execWhere(where, serviceArgv(['reach', to, '--timeout', String(timeoutMs)]), { timeoutMs: timeoutMs + 10_000 })
  const res = parseJsonLine<{ reachable: boolean; how: string; rttMs?: number }>(r, 'reach')
  return { ok: res.reachable, from, to, method, ...(res.rttMs !== undefined ? { rttMs: res.rttMs } : {}), detail: res.how }
}

function parseJsonLine<T>(r: ExecResult, what: string): T {
  const line = r.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as T
  } catch {
    throw new NsnetError(`${what} printed no result (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`, { code: 'EIO', operation: what })
  }
}

/** Sends `message` to an echo server at host:port from `where` and checks it comes back. */
export async function echo(
  where: Where,
  proto: 'tcp' | 'udp',
  host: string,
  port: number,
  message = 'hello from nsnet',
  timeoutMs = 2000,
): Promise<EchoResult> {
  if (where === null) return proto === 'tcp' ? tcpEcho(host, port, message, timeoutMs) : udpEcho(host, port, message, timeoutMs)
  const r = await execWhere(where, serviceArgv(['probe', proto, host, String(port), '--message', message, '--timeout', String(timeoutMs)]), {
    timeoutMs: timeoutMs + 10_000,
  })
  return parseJsonLine<EchoResult>(r, 'echo')
}

/** A long-running program started inside a namespace. */
export interface ServiceHandle {
  readonly where: Where
  readonly name: string
  readonly pid: number
  /** The line it printed when ready (for services), else ''. */
  readonly readyLine: string
  readonly child: ChildProcess
  /** SIGTERM, then SIGKILL after `graceMs` (default 1000); resolves when it has exited. */
  stop(graceMs?: number): Promise<void>
}

export interface StartOptions {
  readonly name?: string
  readonly env?: Readonly<Record<string, string>>
  /** Resolve once this text appears on stdout or stderr. */
  readonly readyText?: string
  /** How long to wait for readiness (default 15000 ms). */
  readonly readyTimeoutMs?: number
  /** Called with its pid as soon as it runs (before it is ready), so an owner can record it. */
  readonly onSpawn?: (pid: number) => void
}

/** Starts argv in `where`; with readyText, resolves once it printed that. */
export function startProcess(where: Where, argv: readonly string[], opts: StartOptions = {}): Promise<ServiceHandle> {
  const child = spawnWhere(where, argv, opts.env)
  const name = opts.name ?? argv[0]!
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r()
    else child.once('exit', () => r())
  })
  let tail = ''
  const handle = (readyLine: string): ServiceHandle => ({
    where,
    name,
    pid: child.pid!,
    readyLine,
    child,
    stop: async (graceMs = 1000) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      try {
        child.kill('SIGTERM')
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          child.kill('SIGKILL')
        } catch {
          /* gone */
        }
      }, graceMs)
      await exited
      clearTimeout(t)
    },
  })
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      cleanup()
      try {
        child.kill('SIGKILL')
      } catch {
        /* gone */
      }
      reject(
        new NsnetError(`process ${name} ${why}${tail.trim() ? `: ${tail.trim().slice(-400)}` : ''}`, {
          code: 'ESERVICE',
          operation: 'process.start',
          object: `process ${name}`,
          namespace: where ?? undefined,
        }),
      )
    }
    const onData = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000)
      if (opts.readyText !== undefined && tail.includes(opts.readyText)) {
        cleanup()
        const line = tail.split('\n').find((l) => l.includes(opts.readyText!)) ?? ''
        settle(line)
      }
    }
    const onExit = (code: number | null, sig: string | null) => fail(`exited before it was ready (${sig ?? `code ${code}`})`)
    const onError = (e: Error) => fail(`could not start: ${e.message}`)
    const timer =
      opts.readyText === undefined
        ? undefined
        : setTimeout(() => fail(`did not print "${opts.readyText}" within ${opts.readyTimeoutMs ?? 15000} ms`), opts.readyTimeoutMs ?? 15000)
    const cleanup = () => {
      if (timer) clearTimeout(timer)
      child.off('exit', onExit)
      child.off('error', onError)
    }
    const settle = (line: string) => {
      // From now on its output is drained and dropped; it must not keep us alive.
      child.stdout?.on('data', () => undefined)
      child.stderr?.on('data', () => undefined)
      child.unref()
      for (const s of [child.stdout, child.stderr, child.stdin]) (s as unknown as { unref?: () => void } | null)?.unref?.()
      resolve(handle(line))
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', onExit)
    child.once('error', onError)
    if (opts.onSpawn) child.once('spawn', () => opts.onSpawn!(child.pid!))
    if (opts.readyText === undefined) {
      child.once('spawn', () => {
        cleanup()
        settle('')
      })
    }
  })
}

/** Starts TCP and/or UDP echo servers inside `where` (`ncat -e /bin/cat` style). */
export function startEchoServer(where: Where, opts: { tcp?: number; udp?: number; address?: string }): Promise<ServiceHandle> {
  const args = ['echo']
  if (opts.address) args.push('--listen', opts.address)
  if (opts.tcp !== undefined) args.push('--tcp', String(opts.tcp))
  if (opts.udp !== undefined) args.push('--udp', String(opts.udp))
  return startProcess(where, serviceArgv(args), { name: 'echo', readyText: 'ready echo' })
}

/** Starts the tiny DNS server (A/AAAA from `records`) inside `where`. */
export function startDnsServer(where: Where, opts: { address?: string; port?: number; records: DnsRecords }): Promise<ServiceHandle> {
  const args = ['dns', '--records', JSON.stringify(opts.records)]
  if (opts.address) args.push('--listen', opts.address)
  if (opts.port !== undefined) args.push('--port', String(opts.port))
  return startProcess(where, serviceArgv(args), { name: 'dns', readyText: 'ready dns' })
}

export interface ResolveResult {
  readonly name: string
  readonly addresses: readonly string[]
  /** `getent hosts NAME`, or the service's getaddrinfo where getent is missing. */
  readonly method: 'getent' | 'getaddrinfo'
}

/** Resolves `name` inside `where` as its programs would (its resolv.conf, nsswitch). */
export async function resolveName(where: Where, name: string, timeoutMs = 5000): Promise<ResolveResult> {
  let getent = true
  try {
    resolveProgram('getent', undefined, 'resolve')
  } catch {
    getent = false
  }
  if (getent) {
    const r = await execWhere(where, ['getent', 'hosts', name], { timeoutMs })
    const addresses =
      r.code === 0
        ? r.stdout
            .trim()
            .split('\n')
            .map((l) => l.split(/\s+/)[0]!)
            .filter(Boolean)
        : []
    return { name, addresses, method: 'getent' }
  }
  const r = await execWhere(where, serviceArgv(['resolve', name]), { timeoutMs })
  return { name, addresses: parseJsonLine<{ addresses: string[] }>(r, 'resolve').addresses, method: 'getaddrinfo' }
}
