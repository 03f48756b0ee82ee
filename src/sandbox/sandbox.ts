// Throwaway user+network+mount namespaces: run a command (or re-run this very script)
// where it is root over its own network stack, with private /run/netns, /etc/netns,
// /run/nsnet and /sys, without being root on the machine and without touching it.
import { spawn, spawnSync } from 'node:child_process'
import { constants } from 'node:os'
import { NsnetError } from '../netlink/errors.js'
import { nodeEntry } from './entry.js'
import { checkSandboxSupport, describeUnsupported, type SandboxSupport, UNSHARE_ARGS } from './support.js'

export interface SandboxRunOptions {
  /** `inherit` (default) shares this terminal; `pipe` collects stdout and stderr. */
  readonly stdio?: 'inherit' | 'pipe'
  /** Written to stdin (with stdio `pipe`), which is then closed. */
  readonly input?: string
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  /** SIGKILL the whole sandbox after this many ms; the result then has code 137 and timedOut. */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

export interface SandboxResult {
  /** The command's exit code (128 + n when signal n ended it). */
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly timedOut?: boolean
}

/** True inside a sandbox made by nsnet. */
export function insideSandbox(): boolean {
  return process.env.NSNET_SANDBOX === '1'
}

function requireSupport(operation: string): void {
  const s: SandboxSupport = checkSandboxSupport()
  if (!s.ok) {
    throw new NsnetError(describeUnsupported(s), {
      code: 'EUNSUPPORTED',
      operation,
      hint: 'run as root instead (the scripts run in place then)',
    })
  }
}

function supervisorArgv(): string[] {
  const inner = nodeEntry(new URL('./inner.js', import.meta.url), 'sandbox-inner')
  const pdeath = spawnSync('setpriv', ['--pdeathsig', 'HUP', '--', 'true'], { stdio: 'ignore' }).status === 0 ? ['setpriv', '--pdeathsig', 'HUP', '--'] : []
  return [...UNSHARE_ARGS, '--', ...pdeath, ...inner]
}

/**
 * Runs `argv` inside a new sandbox and resolves with its exit code (and output with
 * stdio `pipe`). Everything the command leaves running is killed when it ends.
 * `nsnet sandbox -- argv...` on the command line.
 */
export function run(argv: readonly string[], opts: SandboxRunOptions = {}): Promise<SandboxResult> {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    return Promise.reject(new NsnetError('argv must be a non-empty array of strings', { code: 'EINVAL_ARGUMENT', operation: 'sandbox.run' }))
  }
  try {
    requireSupport('sandbox.run')
  } catch (e) {
    return Promise.reject(e)
  }
  const pipe = opts.stdio === 'pipe'
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', supervisorArgv(), {
      stdio: pipe ? [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] : 'inherit',
      env: { ...(opts.env ?? process.env), NSNET_SANDBOX_CMD: JSON.stringify(argv) },
      cwd: opts.cwd,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => err.push(b))
    if (pipe && opts.input !== undefined) {
      child.stdin!.on('error', () => undefined)
      child.stdin!.end(opts.input)
    }
    let timedOut = false
    // SIGHUP makes the supervisor kill everything in the sandbox and exit; SIGKILL if it hangs.
    const kill = () => {
      try {
        child.kill('SIGHUP')
      } catch {
        /* gone */
      }
      setTimeout(() => {
        try {
          child.kill('SIGKILL')
        } catch {
          /* gone */
        }
      }, 2000).unref()
    }
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            kill()
          }, opts.timeoutMs)
    opts.signal?.addEventListener('abort', kill, { once: true })
    child.on('error', (e) => {
      if (timer) clearTimeout(timer)
      reject(new NsnetError(`cannot start unshare: ${e.message}`, { code: 'ENOENT', operation: 'sandbox.run' }))
    })
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer)
      opts.signal?.removeEventListener('abort', kill)
      resolve({
        code: code ?? 128 + (sig ? constants.signals[sig] : 0),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        ...(timedOut ? { timedOut } : {}),
      })
    })
  })
}

/**
 * Re-runs the current script (same node flags, same arguments) inside a sandbox and exits
 * with its code. Use at the top of a script: `if (!insideSandbox()) await reexec()`.
 */
export async function reexec(extraEnv: NodeJS.ProcessEnv = {}): Promise<never> {
  // The command inside owns the terminal's Ctrl-C; we only wait for it.
  const ignore = () => undefined
  process.on('SIGINT', ignore)
  const r = await run([process.execPath, ...process.execArgv, ...process.argv.slice(1)], { env: { ...process.env, ...extraEnv } })
  process.exit(r.code)
}

/** The `sandbox` part of the public API. */
export const sandbox = Object.freeze({
  /** `nsnet sandbox -- argv...` */
  run,
  reexec,
  inside: insideSandbox,
  /** Whether sandboxes work here, and if not, why. */
  check: checkSandboxSupport,
})
