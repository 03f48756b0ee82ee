// Waiting for the kernel to reach a state it does not announce on the request socket
// (a link coming up, DAD finishing): poll with a doubling delay, never a fixed sleep.
import { type ErrorContext, NsnetError } from '../netlink/errors.js'

const TRY_FLOOR_MS = 100

export interface PollOptions {
  /** How long to keep trying, in ms; the last try starts at the deadline. */
  readonly timeoutMs: number
  /** The first pause between tries; it doubles up to `maxMs`. */
  readonly firstMs: number
  readonly maxMs: number
  readonly signal?: AbortSignal
  /** Names the operation in the EABORTED error. */
  readonly where: ErrorContext
}

/**
 * Calls `attempt(msLeft)` until it returns something other than undefined, and resolves with
 * that; resolves undefined when the deadline passes. Rejects with EABORTED when `signal` aborts.
 * `msLeft` is never below TRY_FLOOR_MS, so a try at the deadline still gets time to be answered.
 */
export async function pollWithBackoff<T>(attempt: (msLeft: number) => Promise<T | undefined>, o: PollOptions): Promise<T | undefined> {
  const deadline = Date.now() + o.timeoutMs
  let delay = o.firstMs
  for (;;) {
    if (o.signal?.aborted) throw aborted(o.where)
    const found = await attempt(Math.max(TRY_FLOOR_MS, deadline - Date.now()))
    if (found !== undefined) return found
    const left = deadline - Date.now()
    if (left <= 0) return undefined
    await sleep(Math.min(delay, left), o.signal, o.where)
    delay = Math.min(delay * 2, o.maxMs)
  }
}

/** Resolves after `ms`; rejects with EABORTED naming `where` if `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined, where: ErrorContext): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(where))
    const onAbort = () => {
      clearTimeout(t)
      reject(aborted(where))
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function aborted(where: ErrorContext): NsnetError {
  return new NsnetError('aborted by the caller', { ...where, code: 'EABORTED' })
}
