// The dump lock: the kernel runs one dump per socket and refuses another (EBUSY) until it
// finished the previous one, so dumps on one socket take turns.
import { NsnetError } from '../errors.js'

export class DumpLock {
  private active = false
  private readonly queue: Array<() => void> = []

  /** Dumps waiting for their turn. */
  get waiting(): number {
    return this.queue.length
  }

  /** Resolves when it is the caller's turn; rejects with EABORTED if `signal` fires first. */
  acquire(signal: AbortSignal | undefined, namespace: string | undefined): Promise<void> {
    if (!this.active) {
      this.active = true
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        const i = this.queue.indexOf(go)
        if (i >= 0) this.queue.splice(i, 1)
        reject(new NsnetError('aborted by the caller', { code: 'EABORTED', namespace }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.queue.push(go)
    })
  }

  release(): void {
    const next = this.queue.shift()
    if (next) next()
    else this.active = false
  }

  /** Lets every waiter go (on close, where each then fails with ECLOSED). */
  releaseAll(): void {
    for (const go of this.queue.splice(0)) go()
  }
}
