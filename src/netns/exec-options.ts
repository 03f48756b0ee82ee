// The options of netns.exec / netns.spawn, checked before anything is started: a bad
// value would otherwise surface as a TypeError after the program runs (input: 5), or
// kill it at once (timeoutMs: NaN or -1, which setTimeout treats as 0).
import { constants as osConstants } from 'node:os'
import { invalidArgument } from '../netlink/errors.js'

/** The largest delay setTimeout honours; beyond it Node fires at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1

const EXEC_FIELDS = ['timeoutMs', 'signal', 'input', 'env', 'cwd'] as const
const SPAWN_FIELDS = [
  'cwd', 'env', 'stdio', 'detached', 'uid', 'gid', 'serialization', 'windowsVerbatimArguments', 'windowsHide',
  'signal', 'timeout', 'killSignal',
] as const

interface Where { readonly operation: string; readonly namespace?: string }

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function fail(where: Where, field: string, message: string): never {
  throw invalidArgument(`${field} ${message}`, { operation: where.operation, namespace: where.namespace, object: `option ${field}` })
}

function checkObject(opts: unknown, fields: readonly string[], where: Where): Record<string, unknown> {
  if (opts === undefined) return {}
  if (!isPlainObject(opts)) fail(where, 'options', `must be an object or undefined, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`)
  for (const k of Object.keys(opts)) if (!fields.includes(k)) fail(where, k, `is not an option (known: ${fields.join(', ')})`)
  return opts
}

function checkCommon(o: Record<string, unknown>, where: Where): void {
  if (o.cwd !== undefined && (typeof o.cwd !== 'string' || o.cwd === '' || o.cwd.includes('\0'))) fail(where, 'cwd', `must be a directory path, got ${JSON.stringify(o.cwd)}`)
  if (o.env !== undefined) {
    if (!isPlainObject(o.env)) fail(where, 'env', 'must map names to strings')
    for (const [k, v] of Object.entries(o.env)) {
      if (k === '' || k.includes('=') || k.includes('\0')) fail(where, `env[${JSON.stringify(k)}]`, 'is not a variable name')
      if (v !== undefined && (typeof v !== 'string' || v.includes('\0'))) fail(where, `env.${k}`, `must be a string without NUL, got ${typeof v}`)
    }
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) fail(where, 'signal', 'must be an AbortSignal')
}

function checkMs(v: unknown, field: string, where: Where, min: number): void {
  if (v === undefined) return
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > MAX_TIMEOUT_MS) {
    fail(where, field, `must be a number of milliseconds from ${min} to ${MAX_TIMEOUT_MS}, got ${typeof v === 'number' ? v : JSON.stringify(v)}`)
  }
}

/** Checks ExecOptions (see netns.exec). */
export function checkExecOptions(opts: unknown, where: Where): void {
  const o = checkObject(opts, EXEC_FIELDS, where)
  checkCommon(o, where)
  checkMs(o.timeoutMs, 'timeoutMs', where, 1)
  if (o.input !== undefined && typeof o.input !== 'string') fail(where, 'input', `must be a string, got ${typeof o.input}`)
}

/** Checks the child_process options of netns.spawn (argv0 and shell are not allowed). */
export function checkSpawnOptions(opts: unknown, where: Where): void {
  const o = checkObject(opts, SPAWN_FIELDS, where)
  checkCommon(o, where)
  checkMs(o.timeout, 'timeout', where, 0)
  const ks = o.killSignal
  if (ks !== undefined) {
    const known = typeof ks === 'string' ? Object.hasOwn(osConstants.signals, ks)
      : typeof ks === 'number' && Number.isInteger(ks) && Object.values(osConstants.signals).includes(ks)
    if (!known) fail(where, 'killSignal', `is not a signal name or number, got ${JSON.stringify(ks)}`)
  }
  for (const f of ['uid', 'gid'] as const) {
    const v = o[f]
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xfffffffe)) fail(where, f, `must be a non-negative integer, got ${JSON.stringify(v)}`)
  }
  if (o.detached !== undefined && typeof o.detached !== 'boolean') fail(where, 'detached', 'must be a boolean')
}
