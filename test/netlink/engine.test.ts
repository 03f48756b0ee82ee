// Engine tests against the real kernel, inside this file's own network namespace.
// `ip -j` is the independent oracle for what the kernel holds.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Attrs, parseIP, type RawMessage, type Writer } from '../../src/netlink/codec.js'
import { NLM_F_CREATE, NLM_F_EXCL } from '../../src/netlink/constants.js'
import { NetlinkSocket, type Request } from '../../src/netlink/engine.js'
import { BatchError, NsnetError } from '../../src/netlink/errors.js'
import {
  AF_INET,
  IFADDRMSG_LEN,
  IFINFOMSG_LEN,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTMSG_LEN,
  RTNLGRP_IPV4_IFADDR,
} from '../../src/ops/rtnl.js'
import { ROOT, runChild } from '../support/child.js'

const IFLA_IFNAME = 3
const IFA_ADDRESS = 1,
  IFA_LOCAL = 2
const NETLINK_USERSOCK = 2
// The kernel's NETLINK_FIB_LOOKUP input silently drops messages shorter than its request
// struct: an honest "request nobody answers" (net/ipv4/fib_frontend.c, nl_fib_input).
const NETLINK_FIB_LOOKUP = 10

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}
function ipJson<T = any>(...args: string[]): T {
  return JSON.parse(ip('-j', ...args)) as T
}
function ipBatch(lines: string[]): void {
  execFileSync('ip', ['-batch', '-'], { input: lines.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] })
}
function ifindex(name: string): number {
  return ipJson<Array<{ ifindex: number }>>('link', 'show', 'dev', name)[0]!.ifindex
}
function ipv4On(dev: string): string[] {
  const [link] = ipJson<Array<{ addr_info: Array<{ family: string; local: string; prefixlen: number }> }>>('addr', 'show', 'dev', dev)
  return link!.addr_info
    .filter((a) => a.family === 'inet')
    .map((a) => `${a.local}/${a.prefixlen}`)
    .sort()
}

function addrRequest(type: number, index: number, cidr: string, extra: Partial<Request> = {}): Request {
  const [addr, plen] = cidr.split('/')
  const bytes = parseIP(addr!)!.bytes
  return {
    type,
    flags: type === RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0,
    object: `address ${cidr}`,
    body: (w: Writer) => {
      w.u8(AF_INET).u8(Number(plen)).u8(0).u8(0).u32(index).attrBytes(IFA_LOCAL, bytes).attrBytes(IFA_ADDRESS, bytes)
    },
    ...extra,
  }
}
const getLinkByName = (name: string): Request => ({
  type: RTM_GETLINK,
  expectsReply: true,
  object: `link ${name}`,
  body: (w) => {
    w.zeros(IFINFOMSG_LEN).attrStr(IFLA_IFNAME, name)
  },
})
const getLinkByIndex = (index: number): Request => ({
  type: RTM_GETLINK,
  expectsReply: true,
  body: (w) => {
    w.zeros(4).s32(index).zeros(8)
  },
})
const linkDump: Request = {
  type: RTM_GETLINK,
  body: (w) => {
    w.zeros(IFINFOMSG_LEN)
  },
}
const addrDump: Request = {
  type: RTM_GETADDR,
  body: (w) => {
    w.u8(AF_INET).zeros(IFADDRMSG_LEN - 1)
  },
}
const routeDump: Request = {
  type: RTM_GETROUTE,
  body: (w) => {
    w.u8(AF_INET).zeros(RTMSG_LEN - 1)
  },
}

const linkName = (m: RawMessage) => new Attrs(m.buf, m.start + IFINFOMSG_LEN, m.end, 60).str(IFLA_IFNAME)!
const addrText = (m: RawMessage) => {
  const a = new Attrs(m.buf, m.start + IFADDRMSG_LEN, m.end, 12)
  return `${a.ip(IFA_LOCAL)}/${m.buf[m.start + 1]}`
}

async function rejection(p: Promise<unknown>): Promise<NsnetError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(NsnetError)
    return e as NsnetError
  }
  throw new Error('expected a rejection')
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// A dedicated, down veth holds the test addresses so that lo keeps 127.0.0.1.
const DEV = 'nltest0'
let dev = 0
let sock: NetlinkSocket

beforeAll(() => {
  ip('link', 'add', DEV, 'type', 'veth', 'peer', 'name', 'nltest1')
  dev = ifindex(DEV)
  sock = NetlinkSocket.open({ namespace: 'engine-test' })
})
afterAll(() => {
  sock.close()
  ip('link', 'del', DEV)
})
afterEach(() => {
  ip('addr', 'flush', 'dev', DEV)
})

describe('request', () => {
  it('NEW with ACK resolves with no replies, and the kernel holds the address', async () => {
    await expect(sock.request(addrRequest(RTM_NEWADDR, dev, '192.0.2.1/24'))).resolves.toEqual([])
    expect(ipv4On(DEV)).toEqual(['192.0.2.1/24'])
  })

  it('a kernel error rejects with its errno name, number and context', async () => {
    ip('addr', 'add', '192.0.2.1/24', 'dev', DEV)
    const e = await rejection(sock.request(addrRequest(RTM_NEWADDR, dev, '192.0.2.1/24')))
    expect([e.code, e.errno, e.operation, e.object, e.namespace]).toEqual(['EEXIST', 17, 'RTM_NEWADDR', 'address 192.0.2.1/24', 'engine-test'])
    const d = await rejection(sock.request(addrRequest(RTM_DELADDR, dev, '192.0.2.9/24')))
    expect(d.code).toBe('EADDRNOTAVAIL')
    expect(d.hint).toMatch(/no such address/)
  })

  it('a GET resolves with the reply that came before the ACK', async () => {
    const replies = await sock.request(getLinkByName(DEV))
    expect(replies).toHaveLength(1)
    expect(replies[0]!.type).toBe(RTM_NEWLINK)
    expect(replies[0]!.buf.readInt32LE(replies[0]!.start + 4)).toBe(dev)
    expect(linkName(replies[0]!)).toBe(DEV)
    const e = await rejection(sock.request(getLinkByName('nltest-none')))
    expect([e.code, e.object]).toEqual(['ENODEV', 'link nltest-none'])
  })

  it('hundreds of concurrent requests are matched to their own answers', async () => {
    const n = 600
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        i % 4 === 3
          ? sock.request(addrRequest(RTM_DELADDR, dev, `198.51.100.${i % 250}/32`, { object: `miss ${i}` }))
          : sock.request(addrRequest(RTM_NEWADDR, dev, `10.${1 + (i >> 8)}.${i & 255}.1/32`)),
      ),
    )
    results.forEach((r, i) => {
      if (i % 4 === 3) {
        expect(r.status).toBe('rejected')
        expect((r as PromiseRejectedResult).reason.object).toBe(`miss ${i}`)
      } else {
        expect(r).toEqual({ status: 'fulfilled', value: [] })
      }
    })
    const expected = Array.from({ length: n }, (_, i) => i)
      .filter((i) => i % 4 !== 3)
      .map((i) => `10.${1 + (i >> 8)}.${i & 255}.1/32`)
    expect(ipv4On(DEV)).toEqual(expected.sort())
  })

  it('a send on a socket the binding closed by itself rejects with an NsnetError, not a raw throw', async () => {
    const s = NetlinkSocket.open()
    // The binding closes its native socket on a poll error without telling us; simulate that.
    ;(s as unknown as { sock: { close(): void } }).sock.close()
    const e = await rejection(s.request(getLinkByIndex(1)))
    expect(e.code).toBe('EIO')
    expect(e.summary).toMatch(/closed/)
    s.close()
  })

  it('a failed send (no kernel socket for NETLINK_USERSOCK) rejects with the send errno', async () => {
    const s = NetlinkSocket.open({ protocol: NETLINK_USERSOCK })
    try {
      const e = await rejection(s.request({ type: 0x10, operation: 'probe' }))
      expect([e.code, e.operation]).toEqual(['ECONNREFUSED', 'probe'])
    } finally {
      s.close()
    }
  })
})

function flushTable100(): void {
  try {
    ip('route', 'flush', 'table', '100')
  } catch {
    // The table does not exist until a route is added to it.
  }
}

describe('dump', () => {
  afterEach(flushTable100)

  it('collects every message until NLMSG_DONE, across many datagrams, as ip -j sees them', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `link add nld${i}a type veth peer name nld${i}b`)
    ipBatch(lines)
    try {
      const names = await sock.dump(linkDump, linkName)
      expect(names.length).toBeGreaterThan(80)
      expect([...names].sort()).toEqual(
        ipJson<Array<{ ifname: string }>>('link', 'show')
          .map((l) => l.ifname)
          .sort(),
      )
    } finally {
      ipBatch(Array.from({ length: 40 }, (_, i) => `link del nld${i}a`))
    }
  })

  it('concurrent dumps on one socket queue instead of failing with EBUSY', async () => {
    ipBatch(Array.from({ length: 3000 }, (_, i) => `route add 10.100.${i >> 8}.${i & 255}/32 dev lo table 100`))
    ip('addr', 'add', '192.0.2.1/24', 'dev', DEV)
    const sequential = [await sock.dump(linkDump, linkName), await sock.dump(addrDump, addrText), await sock.dump(routeDump, () => 1)]
    const all = await Promise.all([
      sock.dump(linkDump, linkName),
      sock.dump(routeDump, () => 1),
      sock.dump(addrDump, addrText),
      sock.dump(routeDump, () => 1),
      sock.dump(linkDump, linkName),
      sock.dump(addrDump, addrText),
    ])
    expect(all[0]).toEqual(sequential[0])
    expect(all[4]).toEqual(sequential[0])
    expect(all[2]).toEqual(sequential[1])
    expect(all[5]).toEqual(sequential[1])
    expect(all[1]!.length).toBe(sequential[2]!.length)
    expect(all[3]!.length).toBe(sequential[2]!.length)
    expect(sequential[2]!.length).toBeGreaterThan(3000)
  })

  it('requests run while a dump is in progress, and both complete', async () => {
    ipBatch(Array.from({ length: 20000 }, (_, i) => `route add 10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 dev lo table 100`))
    const dump = sock.dump(routeDump, () => 1)
    const adds = Array.from({ length: 500 }, (_, i) => sock.request(addrRequest(RTM_NEWADDR, dev, `10.40.${i >> 8}.${i & 255}/32`)))
    expect(await Promise.all(adds)).toEqual(Array.from({ length: 500 }, () => []))
    expect((await dump).length).toBeGreaterThan(20000)
    expect(ipv4On(DEV)).toHaveLength(500)
  })

  it('a kernel error ends the dump, and the next dump works', async () => {
    const e = await rejection(sock.dump({ type: 0x7c, operation: 'bogus' }, (m) => m))
    expect([e.code, e.operation]).toEqual(['EOPNOTSUPP', 'bogus'])
    expect(await sock.dump(linkDump, linkName)).toContain('lo')
  })

  it('a decoder that throws fails the dump with EDECODE after draining it', async () => {
    ipBatch(Array.from({ length: 2000 }, (_, i) => `route add 10.100.${i >> 8}.${i & 255}/32 dev lo table 100`))
    let calls = 0
    const e = await rejection(
      sock.dump({ ...routeDump, object: 'routes' }, () => {
        if (++calls === 2) throw new RangeError('boom')
        return 1
      }),
    )
    expect([e.code, e.object, e.summary]).toEqual(['EDECODE', 'routes', 'boom'])
    expect(calls).toBe(2) // the rest was drained, not decoded
    expect((await sock.dump(routeDump, () => 1)).length).toBeGreaterThan(2000)
  })

  it('an aborted or timed-out dump does not make the next dump fail with EBUSY', async () => {
    // Big enough to need far more than the 32 datagrams the binding reads per loop turn.
    ipBatch(Array.from({ length: 60000 }, (_, i) => `route add 10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 dev lo table 100`))
    const full = (await sock.dump(routeDump, () => 1)).length
    expect(full).toBeGreaterThan(60000)
    const ac = new AbortController()
    let n = 0
    const aborted = sock.dump(
      routeDump,
      () => {
        if (++n === 10) ac.abort()
        return 1
      },
      { signal: ac.signal },
    )
    const next = sock.dump(routeDump, () => 1)
    expect((await rejection(aborted)).code).toBe('EABORTED')
    expect((await next).length).toBe(full)
    // A timeout far shorter than the dump (the decoder stalls once), then a normal dump.
    let stalled = false
    const stall = () => {
      if (!stalled) {
        stalled = true
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60)
      }
      return 1
    }
    const t = await rejection(sock.dump(routeDump, stall, { timeoutMs: 20 }))
    expect(t.code).toBe('ETIMEDOUT')
    expect((await sock.dump(routeDump, () => 1)).length).toBe(full)
  })

  it('a dump waiting behind another can be aborted; the running one completes', async () => {
    ipBatch(Array.from({ length: 5000 }, (_, i) => `route add 10.100.${i >> 8}.${i & 255}/32 dev lo table 100`))
    const ac = new AbortController()
    const first = sock.dump(routeDump, () => 1)
    const second = sock.dump(routeDump, () => 1, { signal: ac.signal })
    ac.abort()
    expect((await rejection(second)).code).toBe('EABORTED')
    expect((await first).length).toBeGreaterThan(5000)
  })
})

describe('DUMP_INTR', () => {
  // Address dumps carry a generation number: a change between two parts of a multi-part
  // dump marks the next part NLM_F_DUMP_INTR (route dumps do not, so we churn addresses).
  let churn: ChildProcess | undefined
  afterEach(() => {
    if (churn?.pid && churn.exitCode === null) process.kill(churn.pid, 'SIGKILL')
    churn = undefined
  })

  it('is detected (retries: 0 fails with EDUMPINTR) and retried until a consistent dump', async () => {
    const addrs = Array.from({ length: 3000 }, (_, i) => `10.20.${i >> 8}.${i & 255}/32`)
    ipBatch(addrs.map((a) => `addr add ${a} dev ${DEV}`))
    churn = spawn('bash', ['-c', `while true; do ip addr add 10.99.0.1/32 dev ${DEV}; ip addr del 10.99.0.1/32 dev ${DEV}; done`], { stdio: 'ignore' })
    await sleep(50)
    let interrupted = 0
    for (let i = 0; i < 200 && interrupted === 0; i++) {
      try {
        await sock.dump(addrDump, addrText, { retries: 0 })
      } catch (e) {
        expect((e as NsnetError).code).toBe('EDUMPINTR')
        expect((e as NsnetError).hint).toMatch(/retries/)
        interrupted++
      }
    }
    expect(interrupted).toBe(1)
    // Slower churn, so that a restarted dump can get through: some dumps are interrupted and
    // restart, which a decoder called more often than the result is long shows.
    process.kill(churn.pid!, 'SIGKILL')
    churn = spawn('bash', ['-c', `while true; do ip addr add 10.99.0.1/32 dev ${DEV}; sleep 0.03; ip addr del 10.99.0.1/32 dev ${DEV}; sleep 0.03; done`], {
      stdio: 'ignore',
    })
    await sleep(50)
    let retried = 0
    for (let i = 0; i < 300 && (retried === 0 || i < 10); i++) {
      let decoded = 0
      const got = await sock.dump(
        addrDump,
        (m) => {
          decoded++
          return addrText(m)
        },
        { retries: 50 },
      )
      if (decoded > got.length) retried++
      const mine = got.filter((a) => a.startsWith('10.20.'))
      expect(mine.sort()).toEqual([...addrs].sort()) // complete, no duplicates from the interrupted attempt
      expect(got).toContain('127.0.0.1/8')
    }
    expect(retried).toBeGreaterThan(0)
  }, 60_000)
})

describe('timeouts and aborts', () => {
  it('a request nobody answers times out with ETIMEDOUT and its context', async () => {
    const s = NetlinkSocket.open({ protocol: NETLINK_FIB_LOOKUP, namespace: 'fib' })
    try {
      const t0 = Date.now()
      const e = await rejection(s.request({ type: 0x10, operation: 'fib lookup', object: 'nothing' }, { timeoutMs: 200 }))
      expect([e.code, e.operation, e.object, e.namespace]).toEqual(['ETIMEDOUT', 'fib lookup', 'nothing', 'fib'])
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190)
      // The socket default applies when the call gives none.
      const s2 = NetlinkSocket.open({ protocol: NETLINK_FIB_LOOKUP, timeoutMs: 100 })
      const t1 = Date.now()
      expect((await rejection(s2.request({ type: 0x10 }))).code).toBe('ETIMEDOUT')
      expect(Date.now() - t1).toBeLessThan(2000)
      s2.close()
    } finally {
      s.close()
    }
  })

  it('the timeout counts from the send: time spent waiting for window room does not count', async () => {
    const s = NetlinkSocket.open({ protocol: NETLINK_FIB_LOOKUP, timeoutMs: 10_000 })
    try {
      // Fill the window with requests nobody answers, then queue one with a short timeout.
      const fill = Array.from({ length: 5000 }, () => s.request({ type: 0x10 }).catch((e: NsnetError) => e.code))
      let outcome = 'pending'
      const queued = s.request({ type: 0x10 }, { timeoutMs: 100 }).catch((e: NsnetError) => {
        outcome = e.code
      })
      await sleep(400)
      expect(outcome).toBe('pending') // still queued, never sent: no deadline yet
      s.close()
      await queued
      expect(outcome).toBe('ECLOSED')
      expect(new Set(await Promise.all(fill))).toEqual(new Set(['ECLOSED']))
    } finally {
      s.close()
    }
  })

  it('an answer that comes after the timeout is dropped and the socket stays in step', async () => {
    // From the check phase (setImmediate), the next loop iteration runs timers before it polls
    // the socket: the kernel answers during sendmsg, yet the deadline passes first.
    await new Promise((r) => setImmediate(r))
    const p = sock.request(getLinkByName('lo'), { timeoutMs: 10 })
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60)
    expect((await rejection(p)).code).toBe('ETIMEDOUT')
    const [m] = await sock.request(getLinkByIndex(dev))
    expect(linkName(m!)).toBe(DEV)
  })

  it('an already aborted signal rejects with EABORTED and sends nothing', async () => {
    const ac = new AbortController()
    ac.abort()
    const e = await rejection(sock.request(addrRequest(RTM_NEWADDR, dev, '192.0.2.50/32'), { signal: ac.signal }))
    expect([e.code, e.object]).toEqual(['EABORTED', 'address 192.0.2.50/32'])
    expect((await rejection(sock.dump(linkDump, linkName, { signal: ac.signal }))).code).toBe('EABORTED')
    expect((await rejection(sock.batch([addrRequest(RTM_NEWADDR, dev, '192.0.2.51/32')], { signal: ac.signal }))).code).toBe('EABORTED')
    await sleep(20)
    expect(ipv4On(DEV)).toEqual([])
  })

  it('aborting after the send rejects at once; the late answer is ignored', async () => {
    const s = NetlinkSocket.open({ protocol: NETLINK_FIB_LOOKUP })
    try {
      const ac = new AbortController()
      const p = s.request({ type: 0x10 }, { signal: ac.signal, timeoutMs: 10_000 })
      setTimeout(() => ac.abort(), 30)
      const t0 = Date.now()
      expect((await rejection(p)).code).toBe('EABORTED')
      expect(Date.now() - t0).toBeLessThan(12_000) // at once, not after the 25 s timeout
    } finally {
      s.close()
    }
    // On NETLINK_ROUTE the request is already with the kernel: it is applied, the caller hears EABORTED.
    const ac = new AbortController()
    const p = sock.request(addrRequest(RTM_NEWADDR, dev, '192.0.2.60/32'), { signal: ac.signal })
    ac.abort()
    expect((await rejection(p)).code).toBe('EABORTED')
    const [m] = await sock.request(getLinkByIndex(1))
    expect(linkName(m!)).toBe('lo')
    expect(ipv4On(DEV)).toEqual(['192.0.2.60/32'])
  })

  it('aborting requests that wait for window room removes them without sending', async () => {
    // A timeout far beyond the bound below, so that "at once" holds on a loaded machine too.
    const s = NetlinkSocket.open({ protocol: NETLINK_FIB_LOOKUP, timeoutMs: 25_000 })
    try {
      const ac = new AbortController()
      // Far more than the window holds: most of them wait.
      const ps = Array.from({ length: 5000 }, () => s.request({ type: 0x10 }, { signal: ac.signal }))
      await sleep(10)
      // Count what reaches the kernel from here on (the binding's send, seen from inside).
      const raw = (s as unknown as { sock: { send: (...a: unknown[]) => void } }).sock
      let sends = 0
      const send = raw.send.bind(raw)
      raw.send = (...a: unknown[]) => {
        sends++
        send(...a)
      }
      const t0 = Date.now()
      ac.abort()
      const codes = await Promise.all(ps.map((p) => rejection(p).then((e) => e.code)))
      expect(new Set(codes)).toEqual(new Set(['EABORTED']))
      expect(sends).toBe(0)
      expect(Date.now() - t0).toBeLessThan(12_000) // at once, not after the 25 s timeout
    } finally {
      s.close()
    }
  }, 60_000)
})

describe('close', () => {
  it('rejects everything in flight, waiting for the window, or queued for a dump, at once, with ECLOSED', async () => {
    const s = NetlinkSocket.open({ protocol: NETLINK_FIB_LOOKUP, timeoutMs: 25_000, namespace: 'closing' })
    const requests = Array.from({ length: 5000 }, (_, i) => s.request({ type: 0x10, object: `r${i}` }))
    const dumps = [s.dump({ type: 0x10 }, (m) => m), s.dump({ type: 0x10 }, (m) => m)]
    await sleep(10)
    const t0 = Date.now()
    s.close()
    expect(s.isClosed).toBe(true)
    const errors = await Promise.all([...requests, ...dumps].map(rejection))
    expect(Date.now() - t0).toBeLessThan(12_000) // at once, not after the 25 s timeout
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['ECLOSED']))
    expect(errors.every((e) => e.namespace === 'closing')).toBe(true)
    expect(errors[4321]!.object).toBe('r4321')
    // After close, every call fails at once; close() again is harmless.
    expect((await rejection(s.request({ type: 0x10 }))).code).toBe('ECLOSED')
    expect((await rejection(s.dump({ type: 0x10 }, (m) => m))).code).toBe('ECLOSED')
    expect((await rejection(s.batch([{ type: 0x10 }]))).code).toBe('ECLOSED')
    s.close()
  }, 60_000)

  it('close() during a real dump rejects it with ECLOSED', async () => {
    const s = NetlinkSocket.open()
    ipBatch(Array.from({ length: 5000 }, (_, i) => `route add 10.100.${i >> 8}.${i & 255}/32 dev lo table 100`))
    try {
      let n = 0
      const p = s.dump(routeDump, () => {
        if (++n === 5) s.close()
        return 1
      })
      expect((await rejection(p)).code).toBe('ECLOSED')
    } finally {
      s.close()
      flushTable100()
    }
  })
})

describe('batch', () => {
  it('applies the good requests and reports each failure with its index and object', async () => {
    const reqs = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0
        ? addrRequest(RTM_DELADDR, dev, `198.51.100.${i % 250}/32`, { object: `missing #${i}` })
        : addrRequest(RTM_NEWADDR, dev, `10.30.${i >> 8}.${i & 255}/32`),
    )
    // Small datagrams: many chunks, each closed by its own barrier.
    const e = await rejection(sock.batch(reqs, { datagramBytes: 1024 }))
    expect(e).toBeInstanceOf(BatchError)
    const b = e as BatchError
    expect(b.sent).toBe(300)
    expect(b.failures.map((f) => f.index)).toEqual(Array.from({ length: 100 }, (_, k) => 3 * k))
    for (const f of b.failures) {
      expect([f.code, f.object, f.operation, f.namespace]).toEqual(['EADDRNOTAVAIL', `missing #${f.index}`, 'RTM_DELADDR', 'engine-test'])
    }
    expect(b.code).toBe('EADDRNOTAVAIL')
    const expected = reqs
      .map((_, i) => i)
      .filter((i) => i % 3 !== 0)
      .map((i) => `10.30.${i >> 8}.${i & 255}/32`)
    expect(ipv4On(DEV)).toEqual(expected.sort())
  })

  it('an all-good batch resolves with the count; an empty batch sends nothing', async () => {
    const reqs = Array.from({ length: 1000 }, (_, i) => addrRequest(RTM_NEWADDR, dev, `10.31.${i >> 8}.${i & 255}/32`))
    await expect(sock.batch(reqs)).resolves.toEqual({ sent: 1000 })
    expect(ipv4On(DEV)).toHaveLength(1000)
    await expect(sock.batch([])).resolves.toEqual({ sent: 0 })
  })

  it('a request whose body throws fails the batch before anything is sent', async () => {
    const reqs: Request[] = Array.from({ length: 3000 }, (_, i) => addrRequest(RTM_NEWADDR, dev, `10.32.${i >> 8}.${i & 255}/32`))
    reqs[2500] = {
      type: RTM_NEWADDR,
      object: 'bad one',
      body: (w) => {
        w.attrBytes(1, Buffer.alloc(70_000))
      },
    }
    const e = await rejection(sock.batch(reqs, { datagramBytes: 4096 }))
    expect([e.code, e.index, e.object]).toEqual(['EINVAL_ARGUMENT', 2500, 'bad one'])
    await sleep(20)
    expect(ipv4On(DEV)).toEqual([])
  })
})

describe('notifications', () => {
  it('a socket that joined a group hears changes made by ip', async () => {
    const seen: string[] = []
    const s = NetlinkSocket.open({
      groups: [RTNLGRP_IPV4_IFADDR],
      onNotification: (m) => {
        if (m.type === RTM_NEWADDR) seen.push(addrText(m))
      },
    })
    try {
      ip('addr', 'add', '203.0.113.7/32', 'dev', DEV)
      for (let i = 0; i < 100 && !seen.length; i++) await sleep(10)
      expect(seen).toEqual(['203.0.113.7/32'])
    } finally {
      s.close()
    }
  })
})

// Tests whose failure would be the death of the process run in a child.
describe('the receive window (child processes)', () => {
  const engine = `${ROOT}/src/netlink/engine.ts`

  it('control: the raw binding really aborts the process when the receive buffer overflows', async () => {
    const r = await runChild(`
      import { openRawSocket } from '${ROOT}/src/netlink/engine/binding.ts'
      const s = openRawSocket(0, { peek: false, bufferBytes: 32768 })
      s.setRecvBufferSize(4096)
      s.on('message', () => {})
      s.on('error', () => {})
      const n = 2000, len = 32, buf = Buffer.alloc(n * len)
      for (let i = 0; i < n; i++) {
        const o = i * len
        buf.writeUInt32LE(len, o); buf.writeUInt16LE(${RTM_DELLINK}, o + 4); buf.writeUInt16LE(5, o + 6)
        buf.writeUInt32LE(i + 1, o + 8); buf.writeInt32LE(0x7ffffff0, o + 20)
      }
      s.send(buf, {}, () => {})
      setTimeout(() => { console.log('survived'); s.close() }, 500)
    `)
    expect(r.stdout).not.toContain('survived')
    expect(r.signal ?? r.code).not.toBe(0)
  })

  it('20,000 concurrent failing requests all reject with their own error; the process survives', async () => {
    const r = await runChild(
      `
      import { NetlinkSocket } from '${engine}'
      const s = NetlinkSocket.open()
      const n = 20000
      const ps = []
      for (let i = 0; i < n; i++) {
        ps.push(s.request({ type: ${RTM_DELLINK}, object: 'link #' + i, body: (w) => { w.zeros(4).s32(0x7ffffff0 - i).zeros(8) } }))
      }
      const rs = await Promise.allSettled(ps)
      let ok = 0, bad = 0
      rs.forEach((r, i) => {
        if (r.status === 'rejected' && r.reason.code === 'ENODEV' && r.reason.object === 'link #' + i) ok++
        else bad++
      })
      console.log(JSON.stringify({ ok, bad, rcvbuf: s.receiveBufferBytes }))
    `,
      { timeoutMs: 120_000 },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: 20000, bad: 0 })
  }, 130_000)

  it("a failing request's window share grows with its size (its error reply echoes it)", async () => {
    const r = await runChild(
      `
      import { NetlinkSocket } from '${engine}'
      const s = NetlinkSocket.open()
      const pad = Buffer.alloc(4000)
      const ps = []
      for (let i = 0; i < 5000; i++) {
        ps.push(s.request({ type: ${RTM_DELLINK}, body: (w) => { w.zeros(4).s32(0x7ffffff0).zeros(8).attrBytes(0x3ff0, pad) } }))
      }
      const rs = await Promise.allSettled(ps)
      console.log(rs.filter((r) => r.status === 'rejected' && r.reason.code === 'ENODEV').length)
    `,
      { timeoutMs: 120_000 },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('5000')
  }, 130_000)

  it('requests that time out keep their window share until the kernel answered them', async () => {
    // Stalled loop turns let the timers expire before the socket is read: without the stand-ins,
    // each timeout would free room for more sends while the answers still fill the buffer.
    const r = await runChild(
      `
      import { NetlinkSocket } from '${engine}'
      const s = NetlinkSocket.open()
      let stalls = 0
      const stall = setInterval(() => { if (stalls++ < 10) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20) }, 1)
      const ps = []
      for (let i = 0; i < 20000; i++) {
        ps.push(s.request({ type: ${RTM_DELLINK}, body: (w) => { w.zeros(4).s32(0x7ffffff0).zeros(8) } }, { timeoutMs: 1 }))
      }
      const rs = await Promise.allSettled(ps)
      clearInterval(stall)
      const codes = {}
      for (const r of rs) codes[r.reason.code] = (codes[r.reason.code] ?? 0) + 1
      console.log(JSON.stringify(codes))
    `,
      { timeoutMs: 120_000 },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const codes = JSON.parse(r.stdout) as Record<string, number>
    expect(Object.keys(codes).every((c) => c === 'ETIMEDOUT' || c === 'ENODEV')).toBe(true)
    expect((codes.ETIMEDOUT ?? 0) + (codes.ENODEV ?? 0)).toBe(20000)
    expect(codes.ETIMEDOUT).toBeGreaterThan(0)
  }, 130_000)

  it('the same with a tiny receive buffer asked for (raised to a safe minimum; the window fits it)', async () => {
    const r = await runChild(
      `
      import { NetlinkSocket } from '${engine}'
      const s = NetlinkSocket.open({ receiveBufferBytes: 4096 })
      const ps = []
      for (let i = 0; i < 3000; i++) ps.push(s.request({ type: ${RTM_DELLINK}, body: (w) => { w.zeros(4).s32(0x7ffffff0).zeros(8) } }))
      const rs = await Promise.allSettled(ps)
      console.log(JSON.stringify({ enodev: rs.filter((r) => r.status === 'rejected' && r.reason.code === 'ENODEV').length, rcvbuf: s.receiveBufferBytes }))
    `,
      { timeoutMs: 120_000 },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.enodev).toBe(3000)
    expect(out.rcvbuf).toBeLessThanOrEqual(65536 * 2)
  }, 130_000)

  it('a batch of 100,000 failing requests reports every failure with its index', async () => {
    const r = await runChild(
      `
      import { NetlinkSocket } from '${engine}'
      const s = NetlinkSocket.open()
      function* reqs() {
        for (let i = 0; i < 100000; i++) {
          yield { type: ${RTM_DELLINK}, object: 'link #' + i, body: (w) => { w.zeros(4).s32(0x7ffffff0 - (i % 1000)).zeros(8) } }
        }
      }
      try {
        await s.batch(reqs())
        console.log(JSON.stringify({ resolved: true }))
      } catch (e) {
        const f = e.failures ?? []
        let inOrder = 0
        f.forEach((x, i) => { if (x.index === i && x.code === 'ENODEV' && x.object === 'link #' + i) inOrder++ })
        console.log(JSON.stringify({ name: e.name, sent: e.sent, failures: f.length, inOrder }))
      }
    `,
      { timeoutMs: 120_000 },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ name: 'BatchError', sent: 100000, failures: 100000, inOrder: 100000 })
  }, 130_000)

  it('a batch of GET requests (each answered with a whole link) does not overflow', async () => {
    const r = await runChild(
      `
      import { NetlinkSocket } from '${engine}'
      const s = NetlinkSocket.open()
      const reqs = Array.from({ length: 20000 }, () => ({ type: ${RTM_GETLINK}, expectsReply: true, body: (w) => { w.zeros(4).s32(1).zeros(8) } }))
      console.log(JSON.stringify(await s.batch(reqs)))
    `,
      { timeoutMs: 120_000 },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ sent: 20000 })
  }, 130_000)
})

describe('process liveness (child processes)', () => {
  const engine = `${ROOT}/src/netlink/engine.ts`

  it('an idle socket that was never closed does not keep the process alive', async () => {
    const r = await runChild(
      `
      import { NetlinkSocket } from '${engine}'
      const s = NetlinkSocket.open()
      const [m] = await s.request({ type: ${RTM_GETLINK}, expectsReply: true, body: (w) => { w.zeros(4).s32(1).zeros(8) } })
      console.log('got', m.type)
    `,
      { timeoutMs: 10_000 },
    )
    expect(r.signal).toBeNull()
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(`got ${RTM_NEWLINK}`)
    expect(r.ms).toBeLessThan(8000)
  })

  it('a pending request keeps the process alive until it settles', async () => {
    const r = await runChild(
      `
      import { NetlinkSocket } from '${engine}'
      const s = NetlinkSocket.open({ protocol: ${NETLINK_FIB_LOOKUP} })
      const t0 = Date.now()
      s.request({ type: 16 }, { timeoutMs: 700 }).catch((e) => console.log(e.code, Date.now() - t0 >= 690))
    `,
      { timeoutMs: 10_000 },
    )
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('ETIMEDOUT true')
  })
})
