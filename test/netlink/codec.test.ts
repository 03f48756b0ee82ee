// Codec tests. The golden part checks both directions against real `ip` <-> kernel traffic
// (test/golden/*.json, made by test/golden/capture.sh): the kernel's bytes decode to the
// fields strace and `ip` reported, and Writer re-encodes ip's requests byte for byte.
import { isIPv4, isIPv6 } from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  Attrs,
  forEachAttr,
  formatIPv4,
  formatIPv6,
  formatMac,
  networkOf,
  parseCidr,
  parseErrorMessage,
  parseIP,
  parseIPv4,
  parseIPv6,
  parseMac,
  parseMessages,
  readCString,
  Writer,
} from '../../src/netlink/codec.js'
import {
  NLA_F_NESTED,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_DUMP_FILTERED,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
} from '../../src/netlink/constants.js'
import { NsnetError } from '../../src/netlink/errors.js'
import { allMessages, datagrams, findMessage, firstMessageBytes, loadGolden } from '../support/golden.js'

// Numbers from <linux/rtnetlink.h>, <linux/if_link.h>, <linux/if_addr.h>, <linux/netlink.h>, <linux/veth.h>.
const RTM_NEWLINK = 16,
  RTM_DELLINK = 17,
  RTM_GETLINK = 18,
  RTM_NEWADDR = 20
const RTM_NEWROUTE = 24,
  RTM_GETROUTE = 26
const IFLA_ADDRESS = 1,
  IFLA_BROADCAST = 2,
  IFLA_IFNAME = 3,
  IFLA_MTU = 4,
  IFLA_QDISC = 6,
  IFLA_TXQLEN = 13
const IFLA_OPERSTATE = 16,
  IFLA_LINKINFO = 18,
  IFLA_STATS64 = 23,
  IFLA_AF_SPEC = 26,
  IFLA_EXT_MASK = 29
const IFLA_INFO_KIND = 1,
  IFLA_INFO_DATA = 2,
  VETH_INFO_PEER = 1
const IFA_ADDRESS = 1,
  IFA_LOCAL = 2
const RTA_DST = 1,
  RTA_OIF = 4,
  RTA_PRIORITY = 6,
  RTA_PREFSRC = 7,
  RTA_TABLE = 15,
  RTA_UID = 25
const NLMSGERR_ATTR_MSG = 1
const AF_INET = 2,
  AF_INET6 = 10,
  AF_PACKET = 17
const RTEXT_FILTER_VF = 1,
  RTEXT_FILTER_SKIP_STATS = 8
const RTM_F_LOOKUP_TABLE = 0x1000
const ARPHRD_LOOPBACK = 772
const IFF_UP = 1,
  IFF_LOOPBACK = 8,
  IFF_RUNNING = 0x40,
  IFF_LOWER_UP = 0x10000
const RTN_UNICAST = 1,
  RTN_LOCAL = 2,
  RTN_BROADCAST = 3,
  RTN_BLACKHOLE = 6
const RT_TABLE_MAIN = 254,
  RT_TABLE_LOCAL = 255
const RTPROT_KERNEL = 2,
  RTPROT_BOOT = 3
const RT_SCOPE_UNIVERSE = 0,
  RT_SCOPE_LINK = 253,
  RT_SCOPE_HOST = 254
const IFINFOMSG = 16,
  RTMSG = 12

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const ipBytes = (s: string) => parseIP(s)!.bytes

function expectDecodeError(fn: () => unknown): NsnetError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(NsnetError)
    expect((e as NsnetError).code).toBe('EDECODE')
    return e as NsnetError
  }
  throw new Error('expected an EDECODE error')
}

/** ifinfomsg fields of a link message. */
function ifinfo(m: { buf: Buffer; start: number }) {
  const b = m.buf,
    o = m.start
  return { family: b[o], type: b.readUInt16LE(o + 2), index: b.readInt32LE(o + 4), flags: b.readUInt32LE(o + 8), change: b.readUInt32LE(o + 12) }
}

/** rtmsg fields of a route message. */
function rtmsg(m: { buf: Buffer; start: number }) {
  const b = m.buf,
    o = m.start
  return {
    family: b[o],
    dstLen: b[o + 1],
    srcLen: b[o + 2],
    tos: b[o + 3],
    table: b[o + 4],
    protocol: b[o + 5],
    scope: b[o + 6],
    type: b[o + 7],
    flags: b.readUInt32LE(o + 8),
  }
}

/** Clears NLA_F_NESTED at the nest headers our Writer opened (iproute2 does not set it). */
function clearNestedFlags(buf: Buffer, nestStarts: number[]): Buffer {
  const out = Buffer.from(buf)
  for (const s of nestStarts) {
    const t = out.readUInt16LE(s + 2)
    expect(t & NLA_F_NESTED).toBe(NLA_F_NESTED)
    out.writeUInt16LE(t & ~NLA_F_NESTED, s + 2)
  }
  return out
}

describe('golden vectors: what the kernel sends decodes right', () => {
  it('link-show-lo: RTM_NEWLINK reply for lo', () => {
    const v = loadGolden('link-show-lo')
    const req = findMessage(v, 'send', RTM_GETLINK).msg
    const { msg: m } = findMessage(v, 'recv', RTM_NEWLINK)
    expect(m.seq).toBe(req.seq)
    expect(m.flags).toBe(0)
    expect(m.end).toBe(m.buf.length)
    expect(ifinfo(m)).toEqual({
      family: 0,
      type: ARPHRD_LOOPBACK,
      index: 1,
      flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP,
      change: 0,
    })
    const a = new Attrs(m.buf, m.start + IFINFOMSG, m.end, 0x45)
    expect(a.str(IFLA_IFNAME)).toBe('lo')
    expect(a.u32(IFLA_MTU)).toBe(65536)
    expect(a.u32(IFLA_TXQLEN)).toBe(1000)
    expect(a.u8(IFLA_OPERSTATE)).toBe(0) // IF_OPER_UNKNOWN, as `ip` prints for lo
    expect(a.mac(IFLA_ADDRESS)).toBe('00:00:00:00:00:00')
    expect(a.mac(IFLA_BROADCAST)).toBe('00:00:00:00:00:00')
    expect(a.str(IFLA_QDISC)).toBe('noqueue')
    expect(a.length(IFLA_STATS64)).toBe(200)
    expect(a.u64(IFLA_STATS64)).toBe(0) // rx_packets of a fresh lo
    // The kernel marks IFLA_AF_SPEC's children nested; the view must see through the flag.
    const af = a.nested(IFLA_AF_SPEC, 16)!
    expect(af.has(AF_INET)).toBe(true)
    expect(af.has(AF_INET6)).toBe(true)
    const inet6 = af.nested(AF_INET6, 8)!
    expect(inet6.u32(1)).toBe(0x80000000) // IFLA_INET6_FLAGS = IF_READY
    expect(inet6.ip(7)).toBe('::') // IFLA_INET6_TOKEN
    // Types 0x3e and 0x41 arrive as empty attributes with NLA_F_NESTED set on the wire.
    const rawTypes: number[] = []
    for (let o = m.start + IFINFOMSG; o < m.end; o += (m.buf.readUInt16LE(o) + 3) & ~3) rawTypes.push(m.buf.readUInt16LE(o + 2))
    expect(rawTypes).toContain(0x3e | NLA_F_NESTED)
    expect(a.has(0x3e)).toBe(true)
    expect(a.length(0x3e)).toBe(0)
  })

  it('link-dump: MULTI messages then NLMSG_DONE in its own datagram', () => {
    const v = loadGolden('link-dump')
    const req = findMessage(v, 'send', RTM_GETLINK).msg
    expect(req.flags).toBe(NLM_F_REQUEST | NLM_F_DUMP)
    const replies = allMessages(v, 'recv').filter((m) => m.seq === req.seq)
    expect(replies.map((m) => m.type)).toEqual([RTM_NEWLINK, NLMSG_DONE])
    expect(replies.every((m) => m.flags & NLM_F_MULTI)).toBe(true)
    const link = new Attrs(replies[0]!.buf, replies[0]!.start + IFINFOMSG, replies[0]!.end, 0x45)
    expect(link.str(IFLA_IFNAME)).toBe('lo')
    const done = replies[1]!
    expect(done.end - done.start).toBe(4)
    expect(done.buf.readInt32LE(done.start)).toBe(0)
  })

  it('link-show-missing: NLMSG_ERROR ENODEV with the request echoed', () => {
    const v = loadGolden('link-show-missing')
    const req = findMessage(v, 'send', RTM_GETLINK).msg
    const errors = allMessages(v, 'recv').filter((m) => m.type === NLMSG_ERROR)
    const e = errors.find((m) => m.seq === req.seq)!
    expect(parseErrorMessage(e)).toEqual({ errno: 19, requestType: RTM_GETLINK, requestSeq: req.seq })
    // Without NETLINK_CAP_ACK the whole request comes back after the errno.
    const echoed = e.buf.subarray(e.start + 4, e.end)
    expect(hex(echoed)).toBe(hex(firstMessageBytes(datagrams(v, 'send')[1]!)))
    // ip's first probe: an empty RTM_NEWLINK with seq 0, answered ENODEV.
    expect(parseErrorMessage(errors[0]!)).toEqual({ errno: 19, requestType: RTM_NEWLINK, requestSeq: 0 })
  })

  it('addr-add-v4: the ACK is an NLMSG_ERROR with errno 0, capped', () => {
    const v = loadGolden('addr-add-v4')
    const req = findMessage(v, 'send', RTM_NEWADDR).msg
    const ack = findMessage(v, 'recv', NLMSG_ERROR).msg
    expect(ack.flags).toBe(NLM_F_CAPPED)
    expect(ack.end - ack.start).toBe(20)
    expect(parseErrorMessage(ack)).toEqual({ errno: 0, requestType: RTM_NEWADDR, requestSeq: req.seq })
  })

  it('addr-add-v4-exists: EEXIST with the extended-ack message TLV', () => {
    const v = loadGolden('addr-add-v4-exists')
    const req = findMessage(v, 'send', RTM_NEWADDR).msg
    const e = findMessage(v, 'recv', NLMSG_ERROR).msg
    expect(e.flags & NLM_F_ACK_TLVS).toBeTruthy()
    expect(parseErrorMessage(e)).toEqual({ errno: 17, requestType: RTM_NEWADDR, requestSeq: req.seq })
    const echoedLen = e.buf.readUInt32LE(e.start + 4)
    expect(echoedLen).toBe(req.end - req.start + 16)
    const tlvs = new Attrs(e.buf, e.start + 4 + echoedLen, e.end, 8)
    expect(tlvs.str(NLMSGERR_ATTR_MSG)).toBe('ipv4: Address already assigned')
  })

  it('route-dump-v4: every route of `ip route show table all`', () => {
    const v = loadGolden('route-dump-v4')
    const req = findMessage(v, 'send', RTM_GETROUTE).msg
    expect(req.flags).toBe(NLM_F_REQUEST | NLM_F_DUMP)
    const msgs = allMessages(v, 'recv').filter((m) => m.seq === req.seq)
    expect(msgs.at(-1)!.type).toBe(NLMSG_DONE)
    const routes = msgs
      .filter((m) => m.type === RTM_NEWROUTE)
      .map((m) => {
        expect(m.flags).toBe(NLM_F_MULTI | NLM_F_DUMP_FILTERED)
        const h = rtmsg(m)
        const a = new Attrs(m.buf, m.start + RTMSG, m.end, 30)
        return { ...h, dst: a.ip(RTA_DST), table: a.u32(RTA_TABLE), oif: a.u32(RTA_OIF), prefsrc: a.ip(RTA_PREFSRC) }
      })
    // The same set `ip route show table all` printed for this setup (IPv4 part).
    const v4 = routes.filter((r) => r.family === AF_INET)
    expect(v4).toEqual([
      {
        family: 2,
        dstLen: 16,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE_MAIN,
        protocol: RTPROT_BOOT,
        scope: RT_SCOPE_UNIVERSE,
        type: RTN_BLACKHOLE,
        flags: 0,
        dst: '10.8.0.0',
        oif: undefined,
        prefsrc: undefined,
      },
      {
        family: 2,
        dstLen: 16,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE_MAIN,
        protocol: RTPROT_BOOT,
        scope: RT_SCOPE_LINK,
        type: RTN_UNICAST,
        flags: 0,
        dst: '10.9.0.0',
        oif: 1,
        prefsrc: undefined,
      },
      {
        family: 2,
        dstLen: 24,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: RT_SCOPE_HOST,
        type: RTN_LOCAL,
        flags: 0,
        dst: '10.0.0.0',
        oif: 1,
        prefsrc: '10.0.0.1',
      },
      {
        family: 2,
        dstLen: 32,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: RT_SCOPE_HOST,
        type: RTN_LOCAL,
        flags: 0,
        dst: '10.0.0.1',
        oif: 1,
        prefsrc: '10.0.0.1',
      },
      {
        family: 2,
        dstLen: 32,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: RT_SCOPE_LINK,
        type: RTN_BROADCAST,
        flags: 0,
        dst: '10.0.0.255',
        oif: 1,
        prefsrc: '10.0.0.1',
      },
      {
        family: 2,
        dstLen: 8,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: RT_SCOPE_HOST,
        type: RTN_LOCAL,
        flags: 0,
        dst: '127.0.0.0',
        oif: 1,
        prefsrc: '127.0.0.1',
      },
      {
        family: 2,
        dstLen: 32,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: RT_SCOPE_HOST,
        type: RTN_LOCAL,
        flags: 0,
        dst: '127.0.0.1',
        oif: 1,
        prefsrc: '127.0.0.1',
      },
      {
        family: 2,
        dstLen: 32,
        srcLen: 0,
        tos: 0,
        table: RT_TABLE_LOCAL,
        protocol: RTPROT_KERNEL,
        scope: RT_SCOPE_LINK,
        type: RTN_BROADCAST,
        flags: 0,
        dst: '127.255.255.255',
        oif: 1,
        prefsrc: '127.0.0.1',
      },
    ])
  })

  it('route-dump-v6: IPv6 destinations format per RFC 5952', () => {
    const v = loadGolden('route-dump-v6')
    const routes = allMessages(v, 'recv')
      .filter((m) => m.type === RTM_NEWROUTE)
      .map((m) => {
        const a = new Attrs(m.buf, m.start + RTMSG, m.end, 30)
        return `${rtmsg(m).type === RTN_LOCAL ? 'local ' : ''}${a.ip(RTA_DST)}/${rtmsg(m).dstLen} table ${a.u32(RTA_TABLE)} metric ${a.u32(RTA_PRIORITY)}`
      })
    expect(routes.sort()).toEqual(['2001:db8::/64 table 254 metric 256', 'local 2001:db8::1/128 table 255 metric 0', 'local ::1/128 table 255 metric 0'])
  })

  it('route-get: the single RTM_NEWROUTE answer of `ip route get`', () => {
    const v = loadGolden('route-get')
    const req = findMessage(v, 'send', RTM_GETROUTE).msg
    const { msg: m } = findMessage(v, 'recv', RTM_NEWROUTE)
    expect(m.seq).toBe(req.seq)
    expect(rtmsg(m)).toMatchObject({ family: AF_INET, dstLen: 32, table: RT_TABLE_MAIN, type: RTN_LOCAL })
    const a = new Attrs(m.buf, m.start + RTMSG, m.end, 30)
    expect([a.ip(RTA_DST), a.u32(RTA_OIF), a.ip(RTA_PREFSRC), a.u32(RTA_UID), a.u32(RTA_TABLE)]).toEqual(['10.0.0.7', 1, '10.0.0.1', 0, 254])
  })

  it('link-del-lo: EOPNOTSUPP for RTM_DELLINK', () => {
    const v = loadGolden('link-del-lo')
    const req = findMessage(v, 'send', RTM_DELLINK).msg
    const e = allMessages(v, 'recv').find((m) => m.type === NLMSG_ERROR && m.seq === req.seq)!
    expect(parseErrorMessage(e)).toEqual({ errno: 95, requestType: RTM_DELLINK, requestSeq: req.seq })
  })

  it('every captured datagram from the kernel parses completely', () => {
    for (const name of [
      'link-show-lo',
      'link-dump',
      'link-show-missing',
      'addr-add-v4',
      'addr-add-v4-exists',
      'addr-add-v6',
      'route-add-dev',
      'route-add-blackhole',
      'route-dump-v4',
      'route-dump-v6',
      'route-get',
      'link-add-veth',
      'link-del-lo',
    ]) {
      const v = loadGolden(name)
      for (const d of datagrams(v, 'recv')) {
        const msgs = parseMessages(d)
        expect(msgs.length).toBeGreaterThan(0)
        expect(msgs.at(-1)!.end).toBe(d.length)
      }
    }
  })
})

describe("golden vectors: Writer re-encodes ip's requests byte for byte", () => {
  /** ip's request bytes and a Writer whose message uses the same seq and port. */
  function expectSame(name: string, type: number, build: (w: Writer) => void, nth = 0) {
    const v = loadGolden(name)
    const { msg, datagram } = findMessage(v, 'send', type, nth)
    const expected = datagram.subarray(msg.start - 16, msg.end)
    const w = new Writer(16) // small on purpose: growth must not change the bytes
    const start = w.beginMessage(type, msg.flags, msg.seq, msg.port)
    build(w)
    w.endMessage(start)
    expect(hex(w.toBuffer())).toBe(hex(expected))
    return { msg, w }
  }

  it('ip link show lo: RTM_GETLINK by name', () => {
    const { msg } = expectSame('link-show-lo', RTM_GETLINK, (w) => {
      w.zeros(IFINFOMSG)
        .attrU32(IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS)
        .attrStr(IFLA_IFNAME, 'lo')
    })
    expect(msg.flags).toBe(NLM_F_REQUEST)
  })

  it('ip link show: RTM_GETLINK dump (AF_PACKET, RTEXT_FILTER_VF)', () => {
    expectSame('link-dump', RTM_GETLINK, (w) => {
      w.u8(AF_PACKET)
        .zeros(IFINFOMSG - 1)
        .attrU32(IFLA_EXT_MASK, RTEXT_FILTER_VF)
    })
  })

  it('ip addr add 10.0.0.1/24 dev lo: RTM_NEWADDR', () => {
    const { msg } = expectSame('addr-add-v4', RTM_NEWADDR, (w) => {
      const c = parseCidr('10.0.0.1/24')!
      w.u8(AF_INET).u8(c.prefixLength).u8(0).u8(RT_SCOPE_UNIVERSE).u32(1)
      w.attrBytes(IFA_LOCAL, c.bytes).attrBytes(IFA_ADDRESS, c.bytes)
    })
    expect(msg.flags).toBe(NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE)
  })

  it('ip -6 addr add 2001:db8::1/64 dev lo: RTM_NEWADDR', () => {
    expectSame('addr-add-v6', RTM_NEWADDR, (w) => {
      const c = parseCidr('2001:db8::1/64')!
      w.u8(AF_INET6).u8(c.prefixLength).u8(0).u8(RT_SCOPE_UNIVERSE).u32(1)
      w.attrBytes(IFA_LOCAL, c.bytes).attrBytes(IFA_ADDRESS, c.bytes)
    })
  })

  it('ip route add 10.9.0.0/16 dev lo: RTM_NEWROUTE', () => {
    expectSame('route-add-dev', RTM_NEWROUTE, (w) => {
      const c = parseCidr('10.9.0.0/16')!
      w.u8(AF_INET).u8(c.prefixLength).u8(0).u8(0).u8(RT_TABLE_MAIN).u8(RTPROT_BOOT).u8(RT_SCOPE_LINK).u8(RTN_UNICAST).u32(0)
      w.attrBytes(RTA_DST, c.bytes).attrU32(RTA_OIF, 1)
    })
  })

  it('ip route add blackhole 10.8.0.0/16: RTM_NEWROUTE', () => {
    expectSame('route-add-blackhole', RTM_NEWROUTE, (w) => {
      w.u8(AF_INET).u8(16).u8(0).u8(0).u8(RT_TABLE_MAIN).u8(RTPROT_BOOT).u8(RT_SCOPE_UNIVERSE).u8(RTN_BLACKHOLE).u32(0)
      w.attrBytes(RTA_DST, ipBytes('10.8.0.0'))
    })
  })

  it("ip route show: RTM_GETROUTE dump (the 28-byte message inside ip's padded write)", () => {
    const v = loadGolden('route-dump-v4')
    expect(datagrams(v, 'send')[0]!.length).toBe(156)
    expectSame('route-dump-v4', RTM_GETROUTE, (w) => {
      w.zeros(RTMSG)
    })
  })

  it('ip route get 10.0.0.7: RTM_GETROUTE with RTM_F_LOOKUP_TABLE', () => {
    expectSame('route-get', RTM_GETROUTE, (w) => {
      w.u8(AF_INET).u8(32).zeros(6).u32(RTM_F_LOOKUP_TABLE).attrBytes(RTA_DST, ipBytes('10.0.0.7'))
    })
  })

  it('ip link del lo: RTM_DELLINK by index', () => {
    expectSame('link-del-lo', RTM_DELLINK, (w) => {
      w.zeros(4).s32(1).zeros(8)
    })
  })

  it('ip link add type veth: nested attributes equal modulo NLA_F_NESTED, which ip does not set', () => {
    const v = loadGolden('link-add-veth')
    const { msg, datagram } = findMessage(v, 'send', RTM_NEWLINK, 1) // #0 is ip's empty probe
    const expected = datagram.subarray(msg.start - 16, msg.end)
    // iproute2 leaves the flag clear on every nest header it writes.
    forEachAttr(expected, msg.start + IFINFOMSG, msg.end, (t, o) => {
      expect(expected.readUInt16LE(o - 2) & NLA_F_NESTED).toBe(0)
      void t
    })
    const w = new Writer(64)
    const nests: number[] = []
    const start = w.beginMessage(RTM_NEWLINK, msg.flags, msg.seq, msg.port)
    w.zeros(IFINFOMSG).attrStr(IFLA_IFNAME, 'nsnet-v0')
    const linkinfo = w.beginNested(IFLA_LINKINFO)
    nests.push(linkinfo)
    // ip writes IFLA_INFO_KIND without its NUL (the kernel accepts both); attrStr would add one.
    w.attrBytes(IFLA_INFO_KIND, Buffer.from('veth'))
    const data = w.beginNested(IFLA_INFO_DATA)
    nests.push(data)
    const peer = w.beginNested(VETH_INFO_PEER)
    nests.push(peer)
    w.zeros(IFINFOMSG).attrStr(IFLA_IFNAME, 'nsnet-v1')
    w.endNested(peer)
    w.endNested(data)
    w.endNested(linkinfo)
    w.endMessage(start)
    expect(hex(clearNestedFlags(w.toBuffer(), nests))).toBe(hex(expected))
    // And the real ACK that came back for it.
    const ack = allMessages(v, 'recv').find((m) => m.seq === msg.seq)!
    expect(parseErrorMessage(ack)).toEqual({ errno: 0, requestType: RTM_NEWLINK, requestSeq: msg.seq })
  })
})

describe('parseMessages', () => {
  it('splits a datagram and gives each message its header fields', () => {
    const w = new Writer()
    let s = w.beginMessage(100, 0x2, 7, 99)
    w.u32(0xdeadbeef)
    w.endMessage(s)
    s = w.beginMessage(NLMSG_DONE, 0x2, 7, 99)
    w.u8(1)
    w.endMessage(s) // unaligned length 17
    s = w.beginMessage(101, 0, 8, 0)
    w.endMessage(s)
    const msgs = parseMessages(w.toBuffer())
    expect(msgs.map((m) => [m.type, m.flags, m.seq, m.port, m.start, m.end])).toEqual([
      [100, 2, 7, 99, 16, 20],
      [NLMSG_DONE, 2, 7, 99, 36, 37],
      [101, 0, 8, 0, 56, 56],
    ])
  })

  it('an empty buffer has no messages; fewer than 16 trailing bytes are ignored', () => {
    expect(parseMessages(Buffer.alloc(0))).toEqual([])
    expect(parseMessages(Buffer.alloc(15))).toEqual([])
  })

  it('rejects lengths below the header or past the end with EDECODE', () => {
    const b = Buffer.alloc(32)
    b.writeUInt32LE(15, 0)
    expectDecodeError(() => parseMessages(b))
    b.writeUInt32LE(33, 0)
    expectDecodeError(() => parseMessages(b))
    b.writeUInt32LE(0xffffffff, 0)
    expectDecodeError(() => parseMessages(b))
    // iproute2's padded dump request: the kernel ignores the zeros after nlmsg_len; we refuse them.
    expectDecodeError(() => parseMessages(datagrams(loadGolden('route-dump-v4'), 'send')[0]!))
  })

  it('parseErrorMessage refuses other types and short payloads', () => {
    const w = new Writer()
    const s = w.beginMessage(NLMSG_ERROR, 0, 1)
    w.s32(-1)
    w.endMessage(s)
    const [m] = parseMessages(w.toBuffer())
    expectDecodeError(() => parseErrorMessage(m!))
    const w2 = new Writer()
    const s2 = w2.beginMessage(NLMSG_DONE, 0, 1)
    w2.zeros(20)
    w2.endMessage(s2)
    expectDecodeError(() => parseErrorMessage(parseMessages(w2.toBuffer())[0]!))
  })
})

describe('Attrs and forEachAttr', () => {
  function attrsOf(build: (w: Writer) => void, maxType = 10) {
    const w = new Writer()
    build(w)
    const b = w.toBuffer()
    return new Attrs(b, 0, b.length, maxType)
  }

  it('reads each width, byte order and signedness', () => {
    const a = attrsOf((w) =>
      w
        .attrU8(1, 0xab)
        .attrU16(2, 0xbeef)
        .attrU16be(3, 0x1234)
        .attrU32(4, 0xfffffffe)
        .attrU32be(5, 0x01020304)
        .attrS32(6, -5)
        .attrU64(7, 2 ** 53 - 1)
        .attrFlag(8)
        .attrStr(9, 'eth0'),
    )
    expect([a.u8(1), a.u16(2), a.u16be(3), a.u32(4), a.u32be(5), a.s32(6), a.u64(7)]).toEqual([0xab, 0xbeef, 0x1234, 0xfffffffe, 0x01020304, -5, 2 ** 53 - 1])
    expect(a.u64big(7)).toBe(2n ** 53n - 1n)
    expect(a.flag(8)).toBe(true)
    expect(a.flag(10)).toBe(false)
    expect(a.str(9)).toBe('eth0')
    expect(a.u32(10)).toBeUndefined()
    expect(a.str(10)).toBeUndefined()
    expect(a.length(10)).toBe(-1)
    expect(a.has(1000)).toBe(false)
    expect(a.u32(1000)).toBeUndefined()
  })

  it('a repeated type keeps the last for lookups and all of them for all()', () => {
    const a = attrsOf((w) => w.attrU32(1, 10).attrU32(2, 0).attrU32(1, 20).attrU32(1, 30))
    expect(a.u32(1)).toBe(30)
    expect(a.all(1).map(([o]) => a.buf.readUInt32LE(o))).toEqual([10, 20, 30])
  })

  it('types above maxType are kept raw; raw() gives a known one as hex', () => {
    const a = attrsOf(
      (w) =>
        w
          .attrU32(3, 1)
          .attrBytes(12, Buffer.from([1, 2, 3]))
          .attrU16(40, 7),
      5,
    )
    expect(a.unknown()).toEqual([
      { type: 12, hex: '010203' },
      { type: 40, hex: '0700' },
    ])
    expect(a.raw(3)).toEqual({ type: 3, hex: '01000000' })
    expect(a.raw(4)).toBeUndefined()
    expect(attrsOf((w) => w.attrU32(3, 1), 5).unknown()).toBeUndefined()
  })

  it('nested() reads inside a nest and sees through NLA_F_NESTED', () => {
    const a = attrsOf((w) => {
      const n = w.beginNested(5)
      w.attrStr(1, 'veth')
      const inner = w.beginNested(2)
      w.attrU32(7, 42)
      w.endNested(inner)
      w.endNested(n)
    })
    const n = a.nested(5, 4)!
    expect(n.str(1)).toBe('veth')
    expect(n.nested(2, 8)!.u32(7)).toBe(42)
    expect(a.nested(6, 4)).toBeUndefined()
  })

  it('too-short payloads are EDECODE, never RangeError', () => {
    const a = attrsOf((w) =>
      w
        .attrU8(1, 1)
        .attrU16(2, 1)
        .attrFlag(3)
        .attrBytes(4, Buffer.from([1, 2, 3, 4, 5])),
    )
    expectDecodeError(() => a.u16(1))
    expectDecodeError(() => a.u32(2))
    expectDecodeError(() => a.u8(3))
    expectDecodeError(() => a.s32(1))
    expectDecodeError(() => a.u64(2))
    expectDecodeError(() => a.u64big(1))
    expectDecodeError(() => a.u16be(1))
    expectDecodeError(() => a.u32be(2))
    expectDecodeError(() => a.ip(4))
    expect(a.mac(4)).toBe('01:02:03:04:05')
  })

  it('malformed attribute lengths are EDECODE', () => {
    const b = Buffer.from('0800010001000000' + '0300020000000000', 'hex') // second has length 3 < 4
    expectDecodeError(() => new Attrs(b, 0, b.length, 4))
    expectDecodeError(() => forEachAttr(b, 0, b.length, () => {}))
    const c = Buffer.from('0c00010001000000', 'hex') // says 12 bytes, has 8
    expectDecodeError(() => new Attrs(c, 0, c.length, 4))
    expectDecodeError(() => forEachAttr(c, 0, c.length, () => {}))
    // A nest whose inner length runs past the nest (but not past the buffer).
    const d = Buffer.from('0800018008000200' + '01000000', 'hex')
    const a = new Attrs(d, 0, 8, 4) // the child claims 8 bytes; its nest has 4, the buffer 8
    expectDecodeError(() => a.nested(1, 4)!.u32(2))
  })

  it('forEachAttr reports masked types, payload offsets and lengths; fewer than 4 trailing bytes end the walk', () => {
    const w = new Writer()
    w.attrU8(1, 9)
    const n = w.beginNested(2)
    w.endNested(n)
    w.attrStr(3, 'ab')
    w.zeros(3)
    const seen: Array<[number, number, number]> = []
    forEachAttr(w.buf, 0, w.pos, (t, o, l) => seen.push([t, o, l]))
    expect(seen).toEqual([
      [1, 4, 1],
      [2, 12, 0],
      [3, 16, 3],
    ])
  })

  it('readCString stops at the first NUL or at the end of the range', () => {
    const b = Buffer.from('abc\0def\0', 'latin1')
    expect(readCString(b, 0, 8)).toBe('abc')
    expect(readCString(b, 4, 8)).toBe('def')
    expect(readCString(b, 4, 6)).toBe('de')
    expect(readCString(b, 0, 2)).toBe('ab')
    expect(readCString(b, 3, 3)).toBe('')
  })
})

describe('Writer', () => {
  it('pads every attribute to 4 bytes with zeros, even over dirty memory', () => {
    const w = new Writer(8)
    w.buf.fill(0xee)
    w.attrU8(1, 0x11)
      .attrU16(2, 0x2222)
      .attrStr(3, 'abcd')
      .attrStr(4, 'abc')
      .attrStr(5, '')
      .attrFlag(6)
      .attrBytes(7, Buffer.from([1, 2, 3, 4, 5, 6]))
    expect(hex(w.toBuffer())).toBe(
      '0500010011000000' +
        '0600020022220000' +
        '0900030061626364' +
        '00000000' +
        '0800040061626300' +
        '0500050000000000' +
        '04000600' +
        '0a00070001020304' +
        '05060000',
    )
  })

  it('attrStr writes UTF-8 with one NUL, the length counting it', () => {
    const w = new Writer(4)
    w.attrStr(1, 'é')
    expect(hex(w.toBuffer())).toBe('07000100c3a90000')
    const a = new Attrs(w.buf, 0, w.pos, 1)
    expect(a.length(1)).toBe(3)
    expect(a.str(1)).toBe('é')
  })

  it('nested lengths include their (aligned) children; NLA_F_NESTED is set', () => {
    const w = new Writer(4)
    const outer = w.beginNested(1)
    w.attrU8(2, 1)
    const inner = w.beginNested(3)
    w.attrStr(4, 'x')
    w.endNested(inner)
    const empty = w.beginNested(5)
    w.endNested(empty)
    w.endNested(outer)
    const b = w.toBuffer()
    expect(b.length).toBe(4 + 8 + (4 + 8) + 4)
    expect(b.readUInt16LE(0)).toBe(b.length)
    expect(b.readUInt16LE(2)).toBe(1 | NLA_F_NESTED)
    expect(b.readUInt16LE(12)).toBe(12)
    expect(b.readUInt16LE(14)).toBe(3 | NLA_F_NESTED)
    expect(b.readUInt16LE(24)).toBe(4)
    expect(b.readUInt16LE(26)).toBe(5 | NLA_F_NESTED)
  })

  it('endMessage writes the unpadded length and pads after it', () => {
    const w = new Writer(4)
    const s = w.beginMessage(0x1234, 0x0305, 0xfffffffe, 0x80000001)
    w.u8(7)
    w.endMessage(s)
    expect(w.pos).toBe(20)
    expect(hex(w.toBuffer())).toBe('11000000' + '3412' + '0503' + 'feffffff' + '01000080' + '07000000')
    const s2 = w.beginMessage(3, 0, 1)
    w.endMessage(s2)
    expect(parseMessages(w.toBuffer()).map((m) => [m.type, m.end - m.start])).toEqual([
      [0x1234, 1],
      [3, 0],
    ])
  })

  it('grows from a tiny buffer without corrupting earlier bytes', () => {
    const w = new Writer(1)
    const expected: number[] = []
    for (let i = 0; i < 5000; i++) {
      w.attrU32(1, i)
      expected.push(i)
    }
    const a = new Attrs(w.buf, 0, w.pos, 1)
    expect(a.all(1).map(([o]) => w.buf.readUInt32LE(o))).toEqual(expected)
    w.reset()
    expect(w.pos).toBe(0)
  })

  it('reserve() hands out room at the current offset and keeps it across growth', () => {
    const w = new Writer(4)
    w.u16(0xabcd)
    const at = w.reserve(6)
    expect(at).toBe(2)
    w.buf.writeUInt32LE(0x11223344, at)
    w.u32(0x55667788) // grows the buffer
    expect(w.pos).toBe(12)
    expect(hex(w.toBuffer())).toBe('cdab' + '44332211' + hex(w.buf.subarray(6, 8)) + '88776655')
  })

  it('view() shares memory, toBuffer() copies', () => {
    const w = new Writer()
    w.u32(1)
    const v = w.view(),
      c = w.toBuffer()
    w.buf.writeUInt32LE(2, 0)
    expect(v.readUInt32LE(0)).toBe(2)
    expect(c.readUInt32LE(0)).toBe(1)
  })

  it('big-endian, signed and 64-bit writers', () => {
    const w = new Writer()
    w.u16be(0x0102).u32be(0x03040506).s32(-2).u64(0x0102030405060708n).u64(5)
    expect(hex(w.toBuffer())).toBe('0102' + '03040506' + 'feffffff' + '0807060504030201' + '0500000000000000')
  })

  it('an attribute or nest longer than 64 KiB is an EINVAL_ARGUMENT NsnetError, not a RangeError', () => {
    const big = Buffer.alloc(70_000)
    for (const f of [
      () => new Writer().attrBytes(1, big),
      () => new Writer().attrStr(1, 'x'.repeat(70_000)),
      () => {
        const w = new Writer()
        const n = w.beginNested(1)
        w.bytes(big)
        w.endNested(n)
      },
    ]) {
      try {
        f()
        throw new Error('no error')
      } catch (e) {
        expect(e).toBeInstanceOf(NsnetError)
        expect((e as NsnetError).code).toBe('EINVAL_ARGUMENT')
      }
    }
    // The largest legal payload still works.
    const w = new Writer()
    w.attrBytes(1, Buffer.alloc(0xffff - 4))
    expect(w.buf.readUInt16LE(0)).toBe(0xffff)
    expect(w.pos).toBe(0x10000)
  })
})

describe('IPv4', () => {
  it('parses dotted quads and formats them back', () => {
    for (const s of ['0.0.0.0', '10.0.0.1', '192.0.2.255', '255.255.255.255', '1.22.133.0']) {
      const b = parseIPv4(s)!
      expect(formatIPv4(b, 0)).toBe(s)
    }
    expect(Array.from(parseIPv4('198.51.100.7')!)).toEqual([198, 51, 100, 7])
  })

  it('formats every byte value, with an optional prefix length, as the plain template would', () => {
    let seed = 99
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return (seed >>> 16) & 0xff
    }
    const b = new Uint8Array(6)
    for (let n = 0; n < 5000; n++) {
      for (let i = 0; i < 6; i++) b[i] = n < 256 ? (n + i * 37) & 0xff : rnd()
      expect(formatIPv4(b, 1)).toBe(`${b[1]}.${b[2]}.${b[3]}.${b[4]}`)
      const plen = n % 33
      expect(formatIPv4(b, 2, plen)).toBe(`${b[2]}.${b[3]}.${b[4]}.${b[5]}/${plen}`)
    }
    expect(formatIPv4(Uint8Array.from([255, 255, 255, 255]), 0, 128)).toBe('255.255.255.255/128')
  })

  it('refuses everything else', () => {
    for (const s of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '1.2.3.256',
      '01.2.3.4',
      '1.2.3.04',
      '00.0.0.0',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
      '-1.2.3.4',
      '+1.2.3.4',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '0x1.2.3.4',
      '1e2.1.1.1',
      '1.2.3.4/24',
      '1234.1.1.1',
      'a.b.c.d',
      '١.٢.٣.٤',
    ]) {
      expect(parseIPv4(s), s).toBeUndefined()
      expect(isIPv4(s), `node agrees on ${s}`).toBe(false)
    }
  })
})

describe('IPv6 (RFC 4291 parsing, RFC 5952 text)', () => {
  const canonical: Array<[string, string]> = [
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::FFFF:192.0.2.1', '::ffff:192.0.2.1'],
    ['::ffff:0102:0304', '::ffff:1.2.3.4'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:DB8::ABCD', '2001:db8::abcd'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: the first run wins
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not shortened
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['fe80::0001:0:0:0:1', 'fe80:0:0:1::1'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['::1.2.3.4', '::102:304'],
    ['0:0:1:0:0:0:1:0', '0:0:1::1:0'],
  ]
  it.each(canonical)('%s -> %s', (input, text) => {
    const b = parseIPv6(input)!
    expect(b).toBeDefined()
    expect(formatIPv6(b, 0)).toBe(text)
    expect(hex(parseIPv6(text)!)).toBe(hex(b))
    expect(parseIP(input)).toEqual({ family: 6, bytes: b })
  })

  it('refuses malformed text', () => {
    for (const s of [
      '',
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7::8',
      '12345::',
      'g::1',
      '::1 ',
      ' ::1',
      ':1::',
      '1:::2',
      '1:',
      ':1',
      '::ffff:1.2.3',
      '::ffff:256.1.1.1',
      '::ffff:01.2.3.4',
      '1.2.3.4::',
      '::1.2.3.4:5',
      'fe80::1%lo',
      '1:2:3:4:5:6:7:1.2.3.4',
      '[::1]',
      '::1/128',
      '::-1',
      '0x1::',
    ]) {
      expect(parseIPv6(s), s).toBeUndefined()
      expect(parseIP(s), s).toBeUndefined()
      expect(isIPv6(s), `node agrees on ${s}`).toBe(s === 'fe80::1%lo') // node accepts zone ids; we do not
    }
  })

  it('agrees with the WHATWG URL serializer (also RFC 5952) on random addresses', () => {
    let seed = 12345
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed >>> 16
    }
    for (let n = 0; n < 3000; n++) {
      const b = new Uint8Array(16)
      // Mostly zero groups so that runs and ties are common.
      for (let g = 0; g < 8; g++) {
        if (rnd() % 3 === 0) {
          const v = rnd() % 4 === 0 ? rnd() % 16 : rnd()
          b[2 * g] = v >> 8
          b[2 * g + 1] = v & 0xff
        }
      }
      const isMapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff
      if (isMapped) continue // URL prints ::ffff:102:304; RFC 5952 section 5 prefers ::ffff:1.2.3.4
      const text = formatIPv6(b, 0)
      expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname)
      expect(hex(parseIPv6(text)!)).toBe(hex(b))
    }
  })

  it('formatIP chooses by length and refuses other lengths', () => {
    const a = new Attrs(Buffer.from('08000100c0000201', 'hex'), 0, 8, 1)
    expect(a.ip(1)).toBe('192.0.2.1')
    expectDecodeError(() => new Attrs(Buffer.from('0600010001020000', 'hex'), 0, 8, 1).ip(1))
  })
})

describe('CIDR', () => {
  it('parses address/prefix and bare addresses', () => {
    expect(parseCidr('10.0.0.1/24')).toEqual({ family: 4, bytes: ipBytes('10.0.0.1'), prefixLength: 24, address: '10.0.0.1' })
    expect(parseCidr('10.0.0.1')!.prefixLength).toBe(32)
    expect(parseCidr('0.0.0.0/0')!.prefixLength).toBe(0)
    expect(parseCidr('2001:DB8:0::1/64')).toMatchObject({ family: 6, prefixLength: 64, address: '2001:db8::1' })
    expect(parseCidr('::/0')!.prefixLength).toBe(0)
    expect(parseCidr('::1')!.prefixLength).toBe(128)
  })

  it('refuses bad prefixes and addresses', () => {
    // '/024': iproute2 reads it as octal (20); we refuse the ambiguity.
    for (const s of [
      '10.0.0.1/33',
      '::/129',
      '10.0.0.1/',
      '10.0.0.1/-1',
      '10.0.0.1/24/1',
      '/24',
      '10.0.0.1/ 24',
      '10.0.0.1/024',
      '10.0.0.1/00',
      '10.0.0.1/1000',
      '10.0.0.1/255.255.255.0',
      '10.0.0/8',
      'default',
      '',
      '10.0.0.1/+8',
    ]) {
      expect(parseCidr(s), s).toBeUndefined()
    }
  })

  it('networkOf zeroes the host bits and leaves its input alone', () => {
    const cases: Array<[string, string]> = [
      ['10.0.2.7/24', '10.0.2.0'],
      ['10.0.2.7/32', '10.0.2.7'],
      ['10.0.2.7/0', '0.0.0.0'],
      ['10.255.255.255/9', '10.128.0.0'],
      ['192.0.2.255/31', '192.0.2.254'],
      ['203.0.113.77/27', '203.0.113.64'],
      ['2001:db8:abcd:1234::1/50', '2001:db8:abcd::'],
      ['2001:db8::ffff/127', '2001:db8::fffe'],
      ['2001:db8::1/128', '2001:db8::1'],
      ['ffff::1/1', '8000::'],
      ['2001:db8:1:2:3:4:5:6/64', '2001:db8:1:2::'],
    ]
    for (const [input, net] of cases) {
      const c = parseCidr(input)!
      const before = hex(c.bytes)
      const n = networkOf(c)
      expect(n.address, input).toBe(net)
      expect(n.prefixLength).toBe(c.prefixLength)
      expect(n.family).toBe(c.family)
      expect(hex(c.bytes)).toBe(before)
    }
  })
})

describe('MAC', () => {
  it('parses colon and dash forms and formats lowercase, zero-padded', () => {
    const b = parseMac('02:AB:0c:d:E:ff')!
    expect(formatMac(b, 0, 6)).toBe('02:ab:0c:0d:0e:ff')
    expect(formatMac(parseMac('00-11-22-33-44-55')!, 0, 6)).toBe('00:11:22:33:44:55')
    expect(formatMac(new Uint8Array(0), 0, 0)).toBe('')
  })

  it('refuses malformed text', () => {
    for (const s of [
      '',
      '00:11:22:33:44',
      '00:11:22:33:44:55:66',
      'zz:11:22:33:44:55',
      '000:11:22:33:44:55',
      '00:11:22:33:44:',
      '00::11:22:33:44',
      '0011.2233.4455',
      '00:11:22:33:44:55 ',
    ]) {
      expect(parseMac(s), s).toBeUndefined()
    }
  })
})
