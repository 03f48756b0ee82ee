// What every walkthrough script shares: its options (--sandbox, --keep, --shell NS,
// --quiet), re-running itself inside a throwaway sandbox, printing each step as the `ip`
// command it stands for, recording checks, cleaning up, and the exit code (1 when any
// check failed).

import { spawn } from 'node:child_process'
import { isNsnetError } from '../../src/netlink/errors.js'
import { spawnIn } from '../../src/netns/exec.js'
import { sandbox } from '../../src/sandbox/sandbox.js'
import type { PingResult } from '../../src/topology/probes.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { Topology } from '../../src/topology/topology.js'
import { ensureBundles } from './bundle.js'

export interface WalkthroughOptions {
  /** Leave everything up at the end. */
  readonly keep: boolean
  /** Open an interactive shell in this namespace at the end (lan-nat: --shell ns1). */
  readonly shell?: string
  readonly quiet: boolean
  /** Arguments the script did not recognise. */
  readonly rest: readonly string[]
}

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s)
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s)
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s)

export class Steps {
  readonly failures: string[] = []
  private readonly cleanups: Array<{ what: string; fn: () => Promise<void> }> = []
  private readonly labs: Topology[] = []
  private readonly abort = new AbortController()
  /** Aborted by Ctrl-C: a build in progress rolls back, the cleanups still run. */
  readonly signal = this.abort.signal

  constructor(readonly opts: WalkthroughOptions) {}

  interrupt(): void {
    this.abort.abort()
  }

  /**
   * Builds a topology one step at a time, printing each step as its `ip` command; it is
   * taken down at the end, or kept (and left to `nsnet down`) with --keep.
   */
  async up(spec: TopologySpec): Promise<Topology> {
    const lab = await Topology.up(spec, { sequential: true, signal: this.signal, onStep: (_s, cmd) => this.print(`$ ${cmd}`) })
    this.labs.push(lab)
    this.onCleanup(lab.teardownScript().trimEnd(), async () => {
      await lab.down()
    })
    return lab
  }

  print(text = ''): void {
    if (!this.opts.quiet) process.stdout.write(`${text}\n`)
  }

  section(title: string): void {
    this.print()
    this.print(bold(`== ${title}`))
  }

  /** Prints `$ command` (the ip equivalent) and runs the nsnet call that does it. */
  async ip<T>(command: string, fn: () => Promise<T>): Promise<T> {
    this.print(`$ ${command}`)
    return fn()
  }

  /** Prints `$ command` and the text the nsnet call produced (its output, formatted like ip's). */
  async show(command: string, fn: () => Promise<string | string[]>): Promise<string> {
    this.print(`$ ${command}`)
    const out = await fn()
    const text = Array.isArray(out) ? out.join('\n') : out
    if (text.trim())
      this.print(
        text
          .replace(/\n$/, '')
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n'),
      )
    return text
  }

  /** Records a ping check: whether it got through, and how (ping, or a TCP probe where ping is missing). */
  checkPing(name: string, ping: () => Promise<PingResult>): Promise<boolean> {
    return this.check(name, async () => {
      const r = await ping()
      return { ok: r.ok, detail: `${r.method}: ${r.detail}` }
    })
  }

  /** Records a check; `fn` returns whether it held and what to print. */
  async check(name: string, fn: () => Promise<boolean | { ok: boolean; detail?: string }>): Promise<boolean> {
    if (this.signal.aborted) throw new Error('interrupted')
    let ok: boolean
    let detail: string | undefined
    try {
      const r = await fn()
      ok = typeof r === 'boolean' ? r : r.ok
      detail = typeof r === 'boolean' ? undefined : r.detail
    } catch (e) {
      ok = false
      detail = isNsnetError(e) ? e.message : String((e as Error)?.message ?? e)
    }
    if (!ok) this.failures.push(name)
    // Checks print even when quiet: they are the result.
    process.stdout.write(`${ok ? green('PASS') : red('FAIL')} ${name}${detail ? dim(`  (${detail})`) : ''}\n`)
    return ok
  }

  /** Runs at the end, last registered first, unless --keep. */
  onCleanup(what: string, fn: () => Promise<void>): void {
    this.cleanups.push({ what, fn })
  }

  async cleanup(): Promise<void> {
    if (this.opts.keep && !this.signal.aborted) {
      for (const lab of this.labs) await lab.keep()
      this.print()
      this.print(bold('== --keep: left everything up'))
      for (const lab of this.labs) this.print(dim(`  remove it with: nsnet down ${lab.runId}   (or by hand:)`))
      for (const c of this.cleanups)
        this.print(
          dim(
            c.what
              .split('\n')
              .map((l) => `  $ ${l}`)
              .join('\n'),
          ),
        )
      return
    }
    this.section('clean up')
    for (const c of this.cleanups.reverse()) {
      try {
        this.print(
          c.what
            .split('\n')
            .map((l) => `$ ${l}`)
            .join('\n'),
        )
        await c.fn()
      } catch (e) {
        this.failures.push(`cleanup: ${c.what}`)
        process.stdout.write(`${red('FAIL')} cleanup ${c.what}: ${(e as Error).message}\n`)
      }
    }
  }
}

function parseArgs(argv: string[]): { opts: WalkthroughOptions; sandbox: boolean | undefined } {
  let keep = false
  let quiet = false
  let shell: string | undefined
  let sb: boolean | undefined
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--keep') keep = true
    else if (a === '--quiet' || a === '-q') quiet = true
    else if (a === '--sandbox') sb = true
    else if (a === '--no-sandbox') sb = false
    else if (a === '--shell') shell = argv[++i]
    else if (a.startsWith('--shell=')) shell = a.slice(8)
    else if (a === '--help' || a === '-h') {
      process.stdout.write('options: --sandbox (default when not root) | --no-sandbox, --keep, --shell NS, --quiet\n')
      process.exit(0)
    } else rest.push(a)
  }
  return { opts: { keep, quiet, shell, rest }, sandbox: sb }
}

/** An interactive shell inside namespace `ns` (null: here), prompt naming it. */
export function interactiveShell(ns: string | null, label: string): Promise<number> {
  const sh = process.env.SHELL?.endsWith('bash') || !process.env.SHELL ? 'bash' : process.env.SHELL
  const argv = sh === 'bash' ? ['bash', '--norc', '-i'] : [sh, '-i']
  const env = { ...process.env, PS1: `(${label}) \\u@\\h:\\w\\$ `, NSNET_NETNS: label }
  process.stdout.write(`\nA shell inside ${label}; \`exit\` ends it${process.env.NSNET_SANDBOX === '1' ? ' (and the sandbox)' : ''}.\n`)
  return new Promise((resolve) => {
    const child = ns === null ? spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env }) : spawnIn(ns, argv, { stdio: 'inherit', env })
    child.on('exit', (code) => resolve(code ?? 1))
    child.on('error', () => resolve(127))
  })
}

/**
 * Runs a walkthrough: in a sandbox when asked (default when not root), then `body`,
 * then the cleanups (unless --keep); exits 1 when a check failed or something threw.
 */
export async function walkthrough(title: string, body: (w: Steps) => Promise<void>): Promise<never> {
  const { opts, sandbox: wantSandbox } = parseArgs(process.argv.slice(2))
  const useSandbox = wantSandbox ?? process.getuid?.() !== 0
  await ensureBundles()
  if (useSandbox && !sandbox.inside()) {
    const support = sandbox.check()
    if (!support.ok) {
      process.stderr.write(
        `${title}: cannot make a sandbox here.\n${support.reasons.map((r) => `  - ${r}`).join('\n')}\n` +
          `  Run it as root (it then works in the current namespace), or allow unprivileged user namespaces.\n`,
      )
      process.exit(2)
    }
    await sandbox.reexec()
  }
  const w = new Steps(opts)
  // Ctrl-C: stop, roll back or clean up, then exit 130 (a second one exits at once).
  process.once('SIGINT', () => {
    w.interrupt()
    // The same Ctrl-C may arrive twice (from the terminal and passed on by a sandbox).
    const first = Date.now()
    process.on('SIGINT', () => {
      if (Date.now() - first > 500) process.exit(130)
    })
  })
  w.print(bold(`# ${title}`))
  w.print(dim(sandbox.inside() ? '# running in a throwaway sandbox (user+net+mount namespace)' : '# running in the current network namespace'))
  let crashed: unknown
  try {
    await body(w)
  } catch (e) {
    crashed = e
    process.stdout.write(`${red('FAIL')} ${isNsnetError(e) ? e.message : ((e as Error)?.stack ?? e)}\n`)
  }
  if (opts.shell && crashed === undefined && !w.signal.aborted) await interactiveShell(opts.shell, opts.shell)
  else if (opts.keep && sandbox.inside() && process.stdin.isTTY && !w.signal.aborted) {
    w.print(dim('# --keep inside a sandbox: it lasts as long as this shell'))
    await interactiveShell(null, 'sandbox')
  }
  await w.cleanup()
  if (w.signal.aborted) {
    process.stdout.write(red(`${title}: interrupted\n`))
    process.exit(130)
  }
  const failed = crashed !== undefined || w.failures.length > 0
  w.print()
  process.stdout.write(failed ? red(`${title}: ${w.failures.length || 1} check(s) failed\n`) : green(`${title}: all checks passed\n`))
  process.exit(failed ? 1 : 0)
}
