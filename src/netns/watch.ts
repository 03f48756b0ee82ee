// `ip netns monitor`: named namespaces appearing in and leaving /run/netns, as an async
// iterable. Like ip it watches the directory with inotify (fs.watch) and creates it if
// missing. fs.watch calls both a create and a delete 'rename', and may deliver them after the
// name came and went (a blocked event loop): each one flips the name between added and deleted,
// as ip's IN_CREATE / IN_DELETE lines do.
import { existsSync, type FSWatcher, mkdirSync, readdirSync, watch } from 'node:fs'
import { codeOf, invalidArgument, NsnetError } from '../netlink/errors.js'
import { NETNS_RUN_DIR } from './names.js'

export interface NetnsEvent {
  /** 'add' when the name appeared, 'delete' when it went, as `ip netns monitor` prints them. */
  readonly type: 'add' | 'delete'
  readonly name: string
}

export interface NetnsMonitorOptions {
  /** Ends the iteration when it aborts. */
  readonly signal?: AbortSignal
}

export interface NetnsMonitor extends AsyncIterable<NetnsEvent> {
  /** Resolves once the watch is in place: changes after this are seen. */
  readonly ready: Promise<void>
  /** Stops watching; a pending next() ends the iteration. */
  close(): void
}

/** `ip netns monitor`: add/delete events for /run/netns until `signal` aborts or close(). */
export function monitor(opts: NetnsMonitorOptions = {}): NetnsMonitor {
  const operation = 'netns.monitor'
  if (opts === null || typeof opts !== 'object') throw invalidArgument('options must be an object', { operation })
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidArgument('signal must be an AbortSignal', { operation })
  const queue: NetnsEvent[] = []
  let wake: (() => void) | undefined
  let done = false
  let failure: NsnetError | undefined
  mkdirSync(NETNS_RUN_DIR, { recursive: true })
  const known = new Set(readdirSync(NETNS_RUN_DIR))
  const push = (e: NetnsEvent) => {
    queue.push(e)
    wake?.()
  }
  const flip = (n: string) => {
    if (known.delete(n)) push({ type: 'delete', name: n })
    else {
      known.add(n)
      push({ type: 'add', name: n })
    }
  }
  /** Without a file name (or at the start) the directory itself says what changed. */
  const rescan = () => {
    for (const n of new Set([...known, ...readdirSync(NETNS_RUN_DIR)])) {
      if (existsSync(`${NETNS_RUN_DIR}/${n}`) !== known.has(n)) flip(n)
    }
  }
  let watcher: FSWatcher | undefined
  const close = () => {
    if (done) return
    done = true
    watcher?.close()
    opts.signal?.removeEventListener('abort', close)
    wake?.()
  }
  try {
    watcher = watch(NETNS_RUN_DIR, (type, file) => {
      if (type !== 'rename') return // a bind mount's attribute change, not a name
      if (file) flip(String(file))
      else rescan()
    })
    watcher.on('error', (e) => {
      failure = new NsnetError(`watching ${NETNS_RUN_DIR} failed: ${e.message}`, { code: 'EIO', operation, cause: e })
      close()
    })
  } catch (e) {
    throw new NsnetError(`cannot watch ${NETNS_RUN_DIR}: ${(e as Error).message}`, { code: codeOf(e), operation, cause: e })
  }
  if (opts.signal?.aborted) close()
  else opts.signal?.addEventListener('abort', close, { once: true })
  // Changes between the first listing and the watch taking hold.
  rescan()
  return {
    ready: Promise.resolve(),
    close,
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const next = queue.shift()
          if (next) {
            yield next
            continue
          }
          if (done) {
            if (failure) throw failure
            return
          }
          await new Promise<void>((r) => {
            wake = r
          })
          wake = undefined
        }
      } finally {
        close()
      }
    },
  }
}
