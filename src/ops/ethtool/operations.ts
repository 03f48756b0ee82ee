// Device features over the ethtool generic netlink family: `ethtool -k` and `ethtool -K`.
// ETHTOOL_MSG_STRSET_GET gives the feature names, ETHTOOL_MSG_FEATURES_GET the hw / wanted /
// active / nochange bitsets (compact form), ETHTOOL_MSG_FEATURES_SET a verbose bitset of the
// requested bits. Constants from <linux/ethtool_netlink.h> and <linux/ethtool.h>.
import { Attrs } from '../../netlink/codec.js'
import type { CallOptions, NetlinkSocket } from '../../netlink/engine.js'
import { invalidArgument, isNsnetError, NsnetError } from '../../netlink/errors.js'
import { genlAttrs, genlHeader, resolveFamily } from '../../netlink/genl.js'
import { checkLinkName, type OpsContext } from '../context.js'
import { SpecCheck } from '../spec-check.js'
import { expandFeatureName, LEGACY_FEATURES } from './names.js'

const ETHTOOL_MSG_STRSET_GET = 1
const ETHTOOL_MSG_FEATURES_GET = 11
const ETHTOOL_MSG_FEATURES_SET = 12
const ETHTOOL_A_HEADER_DEV_NAME = 2
const ETHTOOL_A_HEADER_FLAGS = 3
const ETHTOOL_FLAG_COMPACT_BITSETS = 1 << 0
const ETHTOOL_FLAG_OMIT_REPLY = 1 << 1
// STRSET
const ETHTOOL_A_STRSET_HEADER = 1
const ETHTOOL_A_STRSET_STRINGSETS = 2
const ETHTOOL_A_STRINGSETS_STRINGSET = 1
const ETHTOOL_A_STRINGSET_ID = 1
const ETHTOOL_A_STRINGSET_STRINGS = 3
const ETHTOOL_A_STRINGS_STRING = 1
const ETHTOOL_A_STRING_INDEX = 1
const ETHTOOL_A_STRING_VALUE = 2
const ETH_SS_FEATURES = 4
// FEATURES
const ETHTOOL_A_FEATURES_HEADER = 1
const ETHTOOL_A_FEATURES_HW = 2
const ETHTOOL_A_FEATURES_WANTED = 3
const ETHTOOL_A_FEATURES_ACTIVE = 4
const ETHTOOL_A_FEATURES_NOCHANGE = 5
// Bitsets
const ETHTOOL_A_BITSET_SIZE = 2
const ETHTOOL_A_BITSET_BITS = 3
const ETHTOOL_A_BITSET_VALUE = 4
const ETHTOOL_A_BITSET_BITS_BIT = 1
const ETHTOOL_A_BITSET_BIT_NAME = 2
const ETHTOOL_A_BITSET_BIT_VALUE = 3

/** One feature as `ethtool -k -j` shows it; composites (legacy names over several features) have null fixed/requested. */
export interface FeatureState {
  readonly active: boolean
  readonly fixed: boolean | null
  readonly requested: boolean | null
}

/** `ethtool -k -j DEV`: `{ ifname, 'rx-checksumming': {...}, 'tx-checksum-ipv4': {...}, ... }`. */
export type Features = { readonly ifname: string } & Readonly<Record<string, FeatureState | string>>

/** What setFeatures changed: kernel feature name -> its new active state. */
export type FeatureChanges = Readonly<Record<string, boolean>>

export class Ethtool {
  private names: Promise<string[]> | undefined

  /** `socket` opens (once) the generic netlink socket; its owner (Rtnl) closes it. */
  constructor(
    readonly ctx: OpsContext,
    private readonly socket: () => NetlinkSocket,
  ) {}

  /** `ethtool -k DEV` (as `ethtool -k -j` prints it): every feature's active / fixed / requested state. */
  async features(dev: string, opts?: CallOptions): Promise<Features> {
    checkLinkName(dev, this.ctx, 'ethtool.features')
    new SpecCheck({ operation: 'ethtool.features', object: `link ${dev}`, namespace: this.ctx.namespace }).options(opts)
    const st = await this.state(dev, 'ethtool.features', opts)
    const out: Record<string, FeatureState | string> = { ifname: dev }
    const covered = new Set<string>()
    for (const l of LEGACY_FEATURES) {
      const members = st.names.filter((n) => l.pattern.test(n))
      if (members.length === 1) {
        out[l.long] = st.feature(members[0]!)
        covered.add(members[0]!)
      } else if (members.length > 1) {
        out[l.long] = Object.freeze({ active: members.some((n) => st.feature(n).active), fixed: null, requested: null })
        for (const n of members) out[n] = st.feature(n)
        for (const n of members) covered.add(n)
      }
    }
    for (const n of st.names) if (!covered.has(n)) out[n] = st.feature(n)
    return Object.freeze(out) as Features
  }

  /**
   * `ethtool -K DEV tx off gro on ...`: names are kernel features (`tx-checksum-ipv4`) or
   * ethtool's names (`tx-checksumming`, `tx`), which stand for every feature they cover.
   * Resolves with what changed; rejects when a named feature is fixed or the kernel would
   * not take a changeable one, naming it.
   */
  async setFeatures(dev: string, wanted: Readonly<Record<string, boolean>>, opts?: CallOptions): Promise<FeatureChanges> {
    const operation = 'ethtool.setFeatures'
    checkLinkName(dev, this.ctx, operation)
    new SpecCheck({ operation, object: `link ${dev}`, namespace: this.ctx.namespace }).options(opts)
    if (!wanted || typeof wanted !== 'object' || Array.isArray(wanted) || !Object.values(wanted).every((v) => typeof v === 'boolean')) {
      throw invalidArgument(`features must map names to true/false, got ${JSON.stringify(wanted)}`, {
        operation,
        object: `link ${dev}`,
        namespace: this.ctx.namespace,
      })
    }
    const before = await this.state(dev, operation, opts)
    const request = new Map<string, boolean>()
    for (const [name, on] of Object.entries(wanted)) {
      const kernel = expandFeatureName(name, before.names)
      if (!kernel.length) throw invalidArgument(`unknown feature "${name}"`, { operation, object: `link ${dev}`, namespace: this.ctx.namespace })
      const changeable = kernel.filter((k) => !before.feature(k).fixed)
      // A legacy name changes what it can (as ethtool does); a feature named alone must be changeable.
      if (!changeable.length && kernel.every((k) => before.feature(k).active !== on)) {
        throw new NsnetError(`feature ${name} is fixed ${before.feature(kernel[0]!).active ? 'on' : 'off'} on ${dev}`, {
          code: 'EOPNOTSUPP',
          errno: 95,
          operation,
          object: `link ${dev}`,
          namespace: this.ctx.namespace,
        })
      }
      for (const k of changeable) request.set(k, on)
    }
    const { sock, family } = await this.genl(opts)
    await sock
      .request(
        {
          type: family.id,
          operation: 'ETHTOOL_MSG_FEATURES_SET',
          object: `link ${dev}`,
          body: (w) => {
            genlHeader(w, ETHTOOL_MSG_FEATURES_SET, family.version)
            const h = w.beginNested(ETHTOOL_A_FEATURES_HEADER)
            w.attrStr(ETHTOOL_A_HEADER_DEV_NAME, dev).attrU32(ETHTOOL_A_HEADER_FLAGS, ETHTOOL_FLAG_OMIT_REPLY)
            w.endNested(h)
            const ws = w.beginNested(ETHTOOL_A_FEATURES_WANTED)
            const bits = w.beginNested(ETHTOOL_A_BITSET_BITS)
            for (const [k, on] of request) {
              const b = w.beginNested(ETHTOOL_A_BITSET_BITS_BIT)
              w.attrStr(ETHTOOL_A_BITSET_BIT_NAME, k)
              if (on) w.attrFlag(ETHTOOL_A_BITSET_BIT_VALUE)
              w.endNested(b)
            }
            w.endNested(bits)
            w.endNested(ws)
          },
        },
        opts,
      )
      .catch((e) => {
        throw this.noDevice(e, dev, operation)
      })
    const after = await this.state(dev, operation, opts)
    const changes: Record<string, boolean> = {}
    const refused: string[] = []
    for (const [k, on] of request) {
      const now = after.feature(k).active
      if (now !== before.feature(k).active) changes[k] = now
      // A feature can depend on another (tso needs sg): the kernel then keeps it wanted but inactive.
      if (now !== on) refused.push(k)
    }
    if (refused.length) {
      throw new NsnetError(`the kernel did not change ${refused.join(', ')} on ${dev}`, {
        code: 'EOPNOTSUPP',
        errno: 95,
        operation,
        object: `link ${dev}`,
        namespace: this.ctx.namespace,
        hint: 'a feature can depend on another one (e.g. tcp-segmentation-offload needs scatter-gather and tx checksums)',
      })
    }
    return Object.freeze(changes)
  }

  private async genl(opts?: CallOptions) {
    const sock = this.socket()
    const family = await resolveFamily(sock, 'ethtool', opts)
    return { sock, family }
  }

  /** Feature names (bit index -> name) from the ETH_SS_FEATURES string set; the same for every device. */
  private featureNames(dev: string, opts?: CallOptions): Promise<string[]> {
    this.names ??= (async () => {
      const { sock, family } = await this.genl(opts)
      const replies = await sock.request(
        {
          type: family.id,
          expectsReply: true,
          operation: 'ETHTOOL_MSG_STRSET_GET',
          object: `link ${dev}`,
          body: (w) => {
            genlHeader(w, ETHTOOL_MSG_STRSET_GET, family.version)
            const h = w.beginNested(ETHTOOL_A_STRSET_HEADER)
            w.attrStr(ETHTOOL_A_HEADER_DEV_NAME, dev)
            w.endNested(h)
            const sets = w.beginNested(ETHTOOL_A_STRSET_STRINGSETS)
            const one = w.beginNested(ETHTOOL_A_STRINGSETS_STRINGSET)
            w.attrU32(ETHTOOL_A_STRINGSET_ID, ETH_SS_FEATURES)
            w.endNested(one)
            w.endNested(sets)
          },
        },
        opts,
      )
      const names: string[] = []
      const sets = genlAttrs(replies[0]!, ETHTOOL_A_STRSET_STRINGSETS).nested(ETHTOOL_A_STRSET_STRINGSETS, 1)
      for (const [o, l] of sets?.all(ETHTOOL_A_STRINGSETS_STRINGSET) ?? []) {
        const set = new Attrs(sets!.buf, o, o + l, ETHTOOL_A_STRINGSET_STRINGS)
        if (set.u32(ETHTOOL_A_STRINGSET_ID) !== ETH_SS_FEATURES) continue
        const strings = set.nested(ETHTOOL_A_STRINGSET_STRINGS, 1)
        for (const [so, sl] of strings?.all(ETHTOOL_A_STRINGS_STRING) ?? []) {
          const s = new Attrs(strings!.buf, so, so + sl, ETHTOOL_A_STRING_VALUE)
          names[s.u32(ETHTOOL_A_STRING_INDEX)!] = s.str(ETHTOOL_A_STRING_VALUE) ?? ''
        }
      }
      return names
    })()
    this.names.catch(() => {
      this.names = undefined
    })
    return this.names
  }

  private async state(dev: string, operation: string, opts?: CallOptions) {
    const names = await this.featureNames(dev, opts).catch((e) => {
      throw this.noDevice(e, dev, operation)
    })
    const { sock, family } = await this.genl(opts)
    const replies = await sock
      .request(
        {
          type: family.id,
          expectsReply: true,
          operation: 'ETHTOOL_MSG_FEATURES_GET',
          object: `link ${dev}`,
          body: (w) => {
            genlHeader(w, ETHTOOL_MSG_FEATURES_GET, family.version)
            const h = w.beginNested(ETHTOOL_A_FEATURES_HEADER)
            w.attrStr(ETHTOOL_A_HEADER_DEV_NAME, dev).attrU32(ETHTOOL_A_HEADER_FLAGS, ETHTOOL_FLAG_COMPACT_BITSETS)
            w.endNested(h)
          },
        },
        opts,
      )
      .catch((e) => {
        throw this.noDevice(e, dev, operation)
      })
    const a = genlAttrs(replies[0]!, ETHTOOL_A_FEATURES_NOCHANGE)
    const hw = compactBits(a, ETHTOOL_A_FEATURES_HW)
    const wanted = compactBits(a, ETHTOOL_A_FEATURES_WANTED)
    const active = compactBits(a, ETHTOOL_A_FEATURES_ACTIVE)
    const nochange = compactBits(a, ETHTOOL_A_FEATURES_NOCHANGE)
    const known = names.filter((n) => n !== undefined && n !== '')
    const index = new Map(names.map((n, i) => [n, i]))
    return {
      names: known,
      feature(n: string): FeatureState {
        const i = index.get(n)!
        // ethtool prints [fixed] for what the driver does not let change.
        return Object.freeze({ active: active(i), fixed: !hw(i) || nochange(i), requested: wanted(i) })
      },
    }
  }

  private noDevice(e: unknown, dev: string, operation: string): unknown {
    if (isNsnetError(e, 'ENODEV')) {
      return new NsnetError(`no link named "${dev}"`, { code: 'ENODEV', errno: 19, operation, object: `link ${dev}`, namespace: this.ctx.namespace })
    }
    return e
  }
}

/** A compact bitset attribute (SIZE + VALUE words) as a bit test; absent means all zero. */
function compactBits(a: Attrs, type: number): (i: number) => boolean {
  const set = a.nested(type, ETHTOOL_A_BITSET_VALUE)
  const value = set?.bytes(ETHTOOL_A_BITSET_VALUE)
  const size = set?.u32(ETHTOOL_A_BITSET_SIZE) ?? 0
  return (i) => value !== undefined && i < size && ((value.readUInt32LE((i >>> 5) * 4) >>> (i & 31)) & 1) === 1
}
