// Running programs inside a named namespace, the way `ip netns exec` does: through
// `ip netns exec NAME ...`, which also bind-mounts /etc/netns/NAME/* and remounts /sys.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { accessSync, existsSync, constants as fsConstants } from 'node:fs'
import { constants as osConstants } from 'node:os'
import { delimiter, join } from 'node:path'
import { codeOf, invalidArgument, NsnetError } from '../netlink/errors.js'
import { checkExecOptions, checkSpawnOptions } from './exec-options.js'
import { checkNetnsName, netnsPath, noSuchNetns } from './names.js'

export interface ExecOptions {
  /** Kill everything the command started (its process group) after this many ms (0: never); rejects with ETIMEDOUT. */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  /** Written to the program's stdin, which is then closed. */
  readonly input?: string
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
}

export interface ExecResult {
  /** Exit code; 128 + signal number when a signal ended it. */
  readonly code: number
  /** The signal that ended it, if one did. */
  readonly signal?: string
  readonly stdout: string
  readonly stderr: string
}

/** A result of `netns.execAll`, one per namespace. */
export interface NamedExecResult extends ExecResult {
  readonly name: string
}

export type SpawnInOptions = Omit<SpawnOptions, 'argv0' | 'shell'>

/** Throws ENOENT naming the program unless `prog` resolves to an executable file (as execvp would). */
export function resolveProgram(prog: string, namespace: string | undefined, operation: string, env = process.env): string {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, fsConstants.X_OK)
      return true
    } catch {
      return false
    }
  }
  if (prog.includes('/')) {
    if (executable(prog)) return prog
  } else {
    for (const dir of (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
      const p = join(dir || '.', prog)
      if (executable(p)) return p
    }
  }
  throw new NsnetError(`program "${prog}" not found or not executable`, {
    code: 'ENOENT',
    errno: 2,
    operation,
    object: `program ${prog}`,
    namespace,
    hint: prog.includes('/') ? undefined : 'it is not in PATH',
  })
}

/** Checks argv and the namespace before anything is started. */
function prepare(name: string, argv: readonly string[], operation: string, env?: NodeJS.ProcessEnv): string[] {
  checkNetnsName(name, operation)
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw invalidArgument('argv must be a non-empty array of strings', { operation, namespace: name })
  }
  requireNetns(name, operation)
  resolveProgram(argv[0]!, name, operation, env ?? process.env)
  return ['netns', 'exec', name, ...argv]
}

/** Throws ENOENT unless /run/netns/NAME exists. */
export function requireNetns(name: string, operation: string): void {
  if (!existsSync(netnsPath(name))) {
    throw noSuchNetns(name, operation)
  }
}

/**
 * Starts `argv` inside the namespace with streamed stdio, as `ip netns exec NAME argv...`.
 * The returned process's pid is the program's own (ip execs it in place).
 */
export function spawnIn(name: string, argv: readonly string[], opts?: SpawnInOptions): ChildProcess {
  checkSpawnOptions(opts, { operation: 'netns.spawn', namespace: name })
  const args = prepare(name, argv, 'netns.spawn', opts?.env)
  return spawn('ip', args, { stdio: 'pipe', ...opts })
}

/** Runs `argv` inside the namespace to completion, as `ip netns exec NAME argv...`. */
export async function execIn(name: string, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
  checkExecOptions(opts, { operation: 'netns.exec', namespace: name })
  const args = prepare(name, argv, 'netns.exec', opts?.env)
  return runCommand(['ip', ...args], opts ?? {}, { namespace: name, operation: 'netns.exec', program: argv[0]! })
}

/**
 * Runs a command and collects its output. It gets its own process group, so a timeout
 * or abort kills everything it started, and nothing else.
 */
export function runCommand(argv: readonly string[], opts: ExecOptions, ctx: { namespace?: string; operation: string; program?: string }): Promise<ExecResult> {
  const program = ctx.program ?? argv[0]!
  const object = `program ${program}`
  return new Promise<ExecResult>((resolve, reject) => {
    checkExecOptions(opts, ctx) // a throw here rejects, before anything is spawned
    if (opts.signal?.aborted) {
      reject(new NsnetError('aborted before start', { code: 'EABORTED', operation: ctx.operation, object, namespace: ctx.namespace }))
      return
    }
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
      env: opts.env,
      cwd: opts.cwd,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout!.on('data', (b: Buffer) => out.push(b))
    child.stderr!.on('data', (b: Buffer) => err.push(b))
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {
        /* the program may exit without reading */
      })
      child.stdin!.end(opts.input)
    }
    let failure: NsnetError | undefined
    const killGroup = (why: NsnetError): void => {
      if (failure) return
      failure = why
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }
    const timer = !opts.timeoutMs
      ? undefined
      : setTimeout(() => {
          // 0: no deadline
          killGroup(
            new NsnetError(`did not finish within ${opts.timeoutMs} ms; killed it`, {
              code: 'ETIMEDOUT',
              operation: ctx.operation,
              object,
              namespace: ctx.namespace,
            }),
          )
        }, opts.timeoutMs)
    const onAbort = (): void =>
      killGroup(
        new NsnetError('aborted; killed it', {
          code: 'EABORTED',
          operation: ctx.operation,
          object,
          namespace: ctx.namespace,
        }),
      )
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const cleanup = (): void => {
      if (timer) clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      cleanup()
      reject(
        new NsnetError(`cannot start ${argv[0]}: ${e.message}`, {
          code: codeOf(e),
          errno: e.errno === undefined ? undefined : -e.errno,
          operation: ctx.operation,
          object,
          namespace: ctx.namespace,
        }),
      )
    })
    child.on('close', (code, signal) => {
      cleanup()
      if (failure) {
        reject(failure)
        return
      }
      const stdout = Buffer.concat(out).toString()
      const stderr = Buffer.concat(err).toString()
      // `ip netns exec` reports a failed execvp itself, with exit code 1 and nothing else.
      const execFailed = /^exec of "(.*)" failed: (.*)\n?$/.exec(stderr)
      if (code === 1 && stdout === '' && execFailed && execFailed[1] === program) {
        reject(
          new NsnetError(`cannot run program "${program}": ${execFailed[2]}`, {
            code: /No such file/.test(execFailed[2]!) ? 'ENOENT' : 'EACCES',
            operation: ctx.operation,
            object,
            namespace: ctx.namespace,
          }),
        )
        return
      }
      const signo = signal ? osConstants.signals[signal] : undefined
      resolve({ code: code ?? 128 + (signo ?? 0), ...(signal ? { signal } : {}), stdout, stderr })
    })
  })
}
