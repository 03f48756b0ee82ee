// The options of netns.exec / netns.spawn, checked before anything is started: a bad
// value would otherwise surface as a TypeError after the program runs (input: 5), or
// kill it at once (timeoutMs: NaN or -1, which setTimeout treats as 1 ms). The checks are
// the ops' own (SpecCheck), so a field is refused in the same words everywhere.
import { constants as osConstants } from 'node:os'
import { SpecCheck } from '../ops/spec-check.js'

const EXEC_FIELDS = ['timeoutMs', 'signal', 'input', 'env', 'cwd'] as const
const SPAWN_FIELDS = [
  'cwd',
  'env',
  'stdio',
  'detached',
  'uid',
  'gid',
  'serialization',
  'windowsVerbatimArguments',
  'windowsHide',
  'signal',
  'timeout',
  'killSignal',
] as const

interface Where {
  readonly operation: string
  readonly namespace?: string
}

function common(c: SpecCheck, o: Readonly<Record<string, unknown>>): void {
  if (o.cwd !== undefined && (typeof o.cwd !== 'string' || o.cwd === '' || o.cwd.includes('\0')))
    c.fail(`options.cwd must be a directory path, got ${JSON.stringify(o.cwd)}`)
  if (o.env !== undefined) {
    const env = c.object(o.env, 'options.env')
    for (const [k, v] of Object.entries(env)) {
      if (k === '' || k.includes('=') || k.includes('\0')) c.fail(`options.env[${JSON.stringify(k)}] is not a variable name`)
      if (v !== undefined) c.str(v, `options.env.${k}`, Number.MAX_SAFE_INTEGER)
    }
  }
}

/** Checks ExecOptions (see netns.exec); timeoutMs 0 means no deadline, as for every call. */
export function checkExecOptions(opts: unknown, where: Where): void {
  const c = new SpecCheck(where)
  const o = c.optional(opts, 'options', EXEC_FIELDS)
  common(c, o)
  if (o.input !== undefined && typeof o.input !== 'string') c.fail(`options.input must be a string, got ${typeof o.input}`)
}

/** Checks the child_process options of netns.spawn (argv0 and shell are not allowed). */
export function checkSpawnOptions(opts: unknown, where: Where): void {
  const c = new SpecCheck(where)
  const o = c.optional(opts, 'options', SPAWN_FIELDS)
  common(c, o)
  if (o.timeout !== undefined) c.timeout(o.timeout, 'options.timeout')
  const ks = o.killSignal
  if (ks !== undefined) {
    const known =
      typeof ks === 'string'
        ? Object.hasOwn(osConstants.signals, ks)
        : typeof ks === 'number' && Number.isInteger(ks) && Object.values(osConstants.signals).includes(ks)
    if (!known) c.fail(`options.killSignal is not a signal name or number, got ${JSON.stringify(ks)}`)
  }
  for (const f of ['uid', 'gid'] as const) if (o[f] !== undefined) c.int(o[f], `options.${f}`, 0, 0xfffffffe)
  if (o.detached !== undefined) c.bool(o.detached, 'options.detached')
}
