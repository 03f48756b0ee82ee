// Socket-level checks that run in whatever namespace the calling process is in: TCP and
// UDP echo servers and clients, and a reachability probe that needs no server (a TCP
// connection refused by the target proves the packets got there and back).
import { createSocket } from 'node:dgram'
import { connect, createServer, isIPv6, type Server } from 'node:net'

export interface EchoResult {
  readonly ok: boolean
  readonly reply?: string
  readonly rttMs?: number
  readonly error?: string
}

export interface ReachResult {
  readonly reachable: boolean
  /** `connected` or `refused` (both prove reachability), else the error code. */
  readonly how: string
  readonly rttMs?: number
}

export interface EchoServers {
  readonly tcpPort?: number
  readonly udpPort?: number
  close(): Promise<void>
}

/** Echo servers on `address` (default all): TCP echoes a stream, UDP each datagram. */
export async function startEchoServers(opts: { address?: string; tcp?: number; udp?: number }): Promise<EchoServers> {
  const address = opts.address ?? '0.0.0.0'
  const closers: Array<() => Promise<void>> = []
  let tcpPort: number | undefined
  let udpPort: number | undefined
  if (opts.tcp !== undefined) {
    const server: Server = createServer((s) => {
      s.on('error', () => undefined)
      s.pipe(s)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.tcp, address, () => {
        server.off('error', reject)
        resolve()
      })
    })
    tcpPort = (server.address() as { port: number }).port
    closers.push(() => new Promise((r) => server.close(() => r())))
  }
  if (opts.udp !== undefined) {
    const sock = createSocket(isIPv6(address) ? 'udp6' : 'udp4')
    sock.on('message', (msg, r) => sock.send(msg, r.port, r.address))
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject)
      sock.bind(opts.udp, address, () => {
        sock.off('error', reject)
        sock.on('error', () => undefined)
        resolve()
      })
    })
    udpPort = sock.address().port
    closers.push(() => new Promise((r) => sock.close(() => r())))
  }
  return {
    tcpPort,
    udpPort,
    close: async () => {
      await Promise.all(closers.map((c) => c()))
    },
  }
}

/** Sends `message` over TCP and waits for it to come back whole. */
export function tcpEcho(host: string, port: number, message: string, timeoutMs = 2000): Promise<EchoResult> {
  return new Promise((resolve) => {
    const t0 = performance.now()
    const sock = connect({ host, port })
    let got = ''
    const done = (r: EchoResult) => {
      clearTimeout(timer)
      sock.destroy()
      resolve(r)
    }
    const timer = setTimeout(() => done({ ok: false, reply: got, error: 'ETIMEDOUT' }), timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => sock.write(message))
    sock.on('data', (d: string) => {
      got += d
      if (got.length >= message.length) done({ ok: got === message, reply: got, rttMs: performance.now() - t0 })
    })
    sock.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }))
    sock.on('end', () => done({ ok: got === message, reply: got, ...(got === message ? {} : { error: 'closed early' }) }))
  })
}

/** Sends one datagram and waits for the echo. */
export function udpEcho(host: string, port: number, message: string, timeoutMs = 2000): Promise<EchoResult> {
  return new Promise((resolve) => {
    const t0 = performance.now()
    const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4')
    const done = (r: EchoResult) => {
      clearTimeout(timer)
      sock.close()
      resolve(r)
    }
    const timer = setTimeout(() => done({ ok: false, error: 'ETIMEDOUT' }), timeoutMs)
    sock.on('message', (m) => done({ ok: m.toString() === message, reply: m.toString(), rttMs: performance.now() - t0 }))
    // A connected socket reports ICMP port-unreachable as ECONNREFUSED.
    sock.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }))
    sock.connect(port, host, () => sock.send(message))
  })
}

/** Whether `host` answers at all: a TCP connect that succeeds or is refused means yes. */
export function reach(host: string, opts: { port?: number; timeoutMs?: number } = {}): Promise<ReachResult> {
  return new Promise((resolve) => {
    const t0 = performance.now()
    const sock = connect({ host, port: opts.port ?? 9 })
    const done = (r: ReachResult) => {
      clearTimeout(timer)
      sock.destroy()
      resolve(r)
    }
    const timer = setTimeout(() => done({ reachable: false, how: 'ETIMEDOUT' }), opts.timeoutMs ?? 1000)
    sock.on('connect', () => done({ reachable: true, how: 'connected', rttMs: performance.now() - t0 }))
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') done({ reachable: true, how: 'refused', rttMs: performance.now() - t0 })
      else done({ reachable: false, how: e.code ?? e.message })
    })
  })
}
