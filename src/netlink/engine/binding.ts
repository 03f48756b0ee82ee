// The one place that touches the `netlink` npm binding: everything else opens its AF_NETLINK
// sockets here. Only the raw socket module is loaded, and only when the first socket opens:
// the package's index loads every netlink family it knows (~50 ms), and even the binding
// alone would delay a helper's "ready" by ~10 ms.
import { createRequire } from 'node:module'
import type { RawNetlinkSocket } from 'netlink'

/** A native netlink socket, as the binding gives it. */
export type RawSocket = RawNetlinkSocket

/** What the binding reports a failed call with (an errno exception, or a plain Error). */
export type BindingError = Error & { code?: string; errno?: number }

export interface RawSocketOptions {
  /**
   * Read each datagram at its exact size (MSG_PEEK first). The binding allocates its whole
   * buffer per datagram and tells V8 only the bytes used, so a large buffer per small ACK
   * piles up RSS; dumps instead want a big fixed buffer (`bufferBytes`).
   */
  readonly peek: boolean
  /** The read buffer when not peeking. */
  readonly bufferBytes?: number
}

let binding: typeof RawNetlinkSocket | undefined

function load(): typeof RawNetlinkSocket {
  binding ??= (createRequire(import.meta.url)('netlink/dist/raw.js') as { RawNetlinkSocket: typeof RawNetlinkSocket }).RawNetlinkSocket
  return binding
}

/**
 * Opens a native socket of `protocol` in the calling process's network namespace. It is
 * closed when the process exits (see closeAtExit); close it with closeRawSocket().
 */
export function openRawSocket(protocol: number, opts: RawSocketOptions): RawSocket {
  const Raw = load()
  const sock = new Raw(protocol, {
    messagePeeking: opts.peek,
    ...(opts.bufferBytes !== undefined ? { msgBufferSize: opts.bufferBytes } : {}),
  } as ConstructorParameters<typeof RawNetlinkSocket>[1])
  closeAtExit(sock)
  return sock
}

/** Closes a socket opened by openRawSocket(); one the binding already closed is fine. */
export function closeRawSocket(sock: RawSocket): void {
  openSockets.delete(sock)
  try {
    sock.close()
  } catch {
    /* already closed by the binding after a poll error */
  }
}

// A native socket still open when the process exits can get a poll or send callback while
// Node tears the environment down; the binding cannot call into JS then and aborts the
// process. Closing every open socket on 'exit' (before the teardown) prevents that.
const openSockets = new Set<RawSocket>()
let exitHookInstalled = false
function closeAtExit(sock: RawSocket): void {
  openSockets.add(sock)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const s of openSockets) {
      try {
        s.close()
      } catch {
        /* already closed by the binding */
      }
    }
    openSockets.clear()
  })
}
