// Every fixed-size attribute a decoder reads is length-checked: one that is too short is
// EDECODE wherever it sits (last, where a read runs off the end, or followed by another
// attribute, whose bytes a missing check would read as its value).
// Sizes are those of <linux/rtnetlink.h>, <linux/if_addr.h>, <linux/neighbour.h>,
// <linux/fib_rules.h> and <linux/if_link.h>.
import { describe, expect, it } from 'vitest'
import { decodeAddress, decodeLink, decodeNeighbor, decodeRoute, decodeRule, isNsnetError } from '../../src/index.js'
import { parseMessages, type RawMessage } from '../../src/netlink/codec.js'

type Decoder = (m: RawMessage) => unknown

interface Row {
  readonly decoder: string
  readonly fn: Decoder
  /** The family header: length and first byte (family). */
  readonly header: number
  readonly family: number
  readonly nlType: number
  /** [attribute type, its size, name] */
  readonly attrs: ReadonlyArray<readonly [number, number, string]>
  /** Extra header bytes to set: [offset, value]. */
  readonly setup?: ReadonlyArray<readonly [number, number]>
}

const AF_INET = 2

const rows: readonly Row[] = [
  {
    decoder: 'decodeRoute',
    fn: (m) => decodeRoute(m),
    header: 12,
    family: AF_INET,
    nlType: 24,
    attrs: [
      [3, 4, 'RTA_IIF'],
      [4, 4, 'RTA_OIF'],
      [6, 4, 'RTA_PRIORITY'],
      [15, 4, 'RTA_TABLE'],
      [16, 4, 'RTA_MARK'],
      [25, 4, 'RTA_UID'],
      [30, 4, 'RTA_NH_ID'],
      [20, 1, 'RTA_PREF'],
      [12, 32, 'RTA_CACHEINFO'],
      [18, 2, 'RTA_VIA'],
    ],
  },
  {
    decoder: 'decodeAddress',
    fn: (m) => decodeAddress(m),
    header: 8,
    family: AF_INET,
    nlType: 20,
    attrs: [
      [8, 4, 'IFA_FLAGS'],
      [9, 4, 'IFA_RT_PRIORITY'],
      [6, 16, 'IFA_CACHEINFO'],
      [11, 1, 'IFA_PROTO'],
    ],
    setup: [[1, 24]],
  },
  {
    decoder: 'decodeNeighbor',
    fn: (m) => decodeNeighbor(m),
    header: 12,
    family: AF_INET,
    nlType: 28,
    attrs: [
      [12, 1, 'NDA_PROTOCOL'],
      [15, 4, 'NDA_FLAGS_EXT'],
    ],
  },
  {
    decoder: 'decodeRule',
    fn: (m) => decodeRule(m),
    header: 12,
    family: AF_INET,
    nlType: 32,
    attrs: [
      [6, 4, 'FRA_PRIORITY'],
      [10, 4, 'FRA_FWMARK'],
      [16, 4, 'FRA_FWMASK'],
      [15, 4, 'FRA_TABLE'],
      [11, 4, 'FRA_FLOW'],
      [13, 4, 'FRA_SUPPRESS_IFGROUP'],
      [14, 4, 'FRA_SUPPRESS_PREFIXLEN'],
      [19, 1, 'FRA_L3MDEV'],
      [21, 1, 'FRA_PROTOCOL'],
      [22, 1, 'FRA_IP_PROTO'],
      [20, 8, 'FRA_UID_RANGE'],
      [23, 4, 'FRA_SPORT_RANGE'],
      [24, 4, 'FRA_DPORT_RANGE'],
      [4, 4, 'FRA_GOTO'],
    ],
    setup: [[7, 2]], // action goto, so FRA_GOTO is read
  },
  {
    decoder: 'decodeLink',
    fn: (m) => decodeLink(m),
    header: 16,
    family: 0,
    nlType: 16,
    attrs: [
      [4, 4, 'IFLA_MTU'],
      [5, 4, 'IFLA_LINK'],
      [10, 4, 'IFLA_MASTER'],
      [13, 4, 'IFLA_TXQLEN'],
      [16, 1, 'IFLA_OPERSTATE'],
      [17, 1, 'IFLA_LINKMODE'],
      [27, 4, 'IFLA_GROUP'],
      [30, 4, 'IFLA_PROMISCUITY'],
      [31, 4, 'IFLA_NUM_TX_QUEUES'],
      [32, 4, 'IFLA_NUM_RX_QUEUES'],
      [33, 1, 'IFLA_CARRIER'],
      [35, 4, 'IFLA_CARRIER_CHANGES'],
      [37, 4, 'IFLA_LINK_NETNSID'],
      [39, 1, 'IFLA_PROTO_DOWN'],
      [40, 4, 'IFLA_GSO_MAX_SEGS'],
      [41, 4, 'IFLA_GSO_MAX_SIZE'],
      [50, 4, 'IFLA_MIN_MTU'],
      [51, 4, 'IFLA_MAX_MTU'],
      [61, 4, 'IFLA_ALLMULTI'],
    ],
  },
]

/** A netlink message: header, family header, then the attributes given as [type, payload]. */
function message(row: Row, attrs: ReadonlyArray<readonly [number, Buffer]>): RawMessage {
  const parts: Buffer[] = []
  for (const [type, payload] of attrs) {
    const a = Buffer.alloc((4 + payload.length + 3) & ~3)
    a.writeUInt16LE(4 + payload.length, 0)
    a.writeUInt16LE(type, 2)
    payload.copy(a, 4)
    parts.push(a)
  }
  const hdr = Buffer.alloc(row.header)
  hdr[0] = row.family
  for (const [o, v] of row.setup ?? []) hdr[o] = v
  const body = Buffer.concat([hdr, ...parts])
  const nl = Buffer.alloc(16)
  nl.writeUInt32LE(16 + body.length, 0)
  nl.writeUInt16LE(row.nlType, 4)
  const [m] = parseMessages(Buffer.concat([nl, body]))
  return m!
}

/** A harmless attribute to put after the short one: an unknown type with 4 bytes of 0xff. */
const FOLLOWER = [0x7ffe & 0x3fff, Buffer.from([0xff, 0xff, 0xff, 0xff])] as const

function outcome(fn: () => unknown): string {
  try {
    fn()
    return 'decoded'
  } catch (e) {
    return isNsnetError(e, 'EDECODE') ? 'EDECODE' : `threw ${String(e)}`
  }
}

describe('fixed-size attributes are length-checked', () => {
  for (const row of rows) {
    describe(row.decoder, () => {
      it('decodes a message with every attribute at its full size', () => {
        // RTA_VIA is a family (AF_INET) and an address; the rest are filled with 1s.
        const full = row.attrs.map(([t, size, name]) => [t, name === 'RTA_VIA' ? Buffer.from([2, 0, 1, 1, 1, 1]) : Buffer.alloc(size, 1)] as const)
        expect(outcome(() => row.fn(message(row, full)))).toBe('decoded')
      })
      for (const [type, size, name] of row.attrs) {
        it(`${name} shorter than ${size} bytes is EDECODE, last or followed by another attribute`, () => {
          for (let len = 0; len < size; len++) {
            const short = [type, Buffer.alloc(len, 1)] as const
            expect(
              outcome(() => row.fn(message(row, [short]))),
              `${name} of ${len} bytes, last`,
            ).toBe('EDECODE')
            expect(
              outcome(() => row.fn(message(row, [short, FOLLOWER]))),
              `${name} of ${len} bytes, not last`,
            ).toBe('EDECODE')
          }
        })
      }
    })
  }
})
