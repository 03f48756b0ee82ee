// rt.nft against the kernel, with `nft -j list ruleset` as the oracle both ways: what nsnet
// adds (through netns.open(name), so through the helper) nft lists identically, and what
// `nft -f` adds nsnet lists identically and deletes again by the handles it listed.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BatchError, isNsnetError } from '../../src/netlink/errors.js'
import { type NetnsHandle, netns } from '../../src/netns/index.js'
import type { Ruleset } from '../../src/nftables/nft.js'
import type { Rule } from '../../src/nftables/objects.js'
import { formatRuleset } from '../../src/nftables/text.js'
import { ensureHelperBundle } from '../netns/support.js'

const NS = `nsnet-nft-${process.pid}`
const golden = fileURLToPath(new URL('../golden/nftables/', import.meta.url))
const nft = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', NS, 'nft', ...args], { encoding: 'utf8' })
/** `nft -j list ruleset` without its metainfo entry. */
const oracle = (): unknown[] => (JSON.parse(nft('-j', 'list', 'ruleset')).nftables as object[]).filter((o) => !('metainfo' in o))
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x))

let h: NetnsHandle

beforeAll(async () => {
  process.env.NSNET_HELPER = await ensureHelperBundle()
  execFileSync('ip', ['netns', 'add', NS])
  h = await netns.open(NS)
}, 60_000)

afterAll(async () => {
  await h?.close()
  execFileSync('ip', ['netns', 'del', NS])
})

const reset = () => nft('flush', 'ruleset')

describe('rt.nft low level, nft -j list ruleset as the oracle', () => {
  it('what nft -f made, nsnet lists identically; delete() of its list() empties the chains', async () => {
    reset()
    nft('-f', `${golden}inet-ruleset.nft`)
    const ours = await h.nft.ruleset()
    expect(plain(ours.nftables)).toEqual(oracle())
    // And printed in nft's own syntax, it reads exactly as `nft list ruleset`.
    expect(formatRuleset(ours)).toBe(nft('list', 'ruleset'))
    const rules = await h.nft.rules.list({ family: 'inet', table: 't' })
    expect(rules.length).toBe(13)
    for (const r of rules) await h.nft.rules.delete(r)
    expect(oracle().filter((o) => 'rule' in (o as object))).toEqual([])
  })

  it('what nsnet loads, nft lists identically (the same ruleset nft made, handle for handle)', async () => {
    reset()
    nft('-f', `${golden}inet-ruleset.nft`)
    const made = oracle()
    const ours = plain(await h.nft.ruleset()) as Ruleset
    reset()
    const strip = (o: object): object => JSON.parse(JSON.stringify(o, (k, v) => (k === 'handle' ? undefined : v)))
    const res = await h.nft.load(strip(ours) as Ruleset)
    expect(res.transactions).toBe(1)
    expect(oracle().map((o) => strip(o as object))).toEqual(made.map((o) => strip(o as object)))
  })

  it('tables, chains and rules: add, insert, replace, delete, flush; each checked with nft', async () => {
    reset()
    await h.nft.tables.add({ family: 'ip', name: 'x' })
    await h.nft.chains.add({ family: 'ip', table: 'x', name: 'in', type: 'filter', hook: 'input', prio: 'filter', policy: 'accept' })
    await h.nft.chains.add({ family: 'ip', table: 'x', name: 'sub' })
    const base: Omit<Rule, 'expr'> = { family: 'ip', table: 'x', chain: 'in' }
    const a = await h.nft.rules.add({
      ...base,
      expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 22 } }, { accept: null }],
    })
    expect(a.handle).toBeGreaterThan(0)
    const b = await h.nft.rules.insert({ ...base, expr: [{ jump: { target: 'sub' } }] })
    const c = await h.nft.rules.add({ ...base, expr: [{ counter: null }, { drop: null }] }, { position: a.handle })
    expect(nft('-a', 'list', 'chain', 'ip', 'x', 'in')).toMatch(
      new RegExp(`jump sub # handle ${b.handle}[\\s\\S]*tcp dport 22 accept # handle ${a.handle}[\\s\\S]*counter packets 0 bytes 0 drop # handle ${c.handle}`),
    )
    const listed = await h.nft.rules.list({ family: 'ip', table: 'x', chain: 'in' })
    expect(listed.map((r) => r.handle)).toEqual([b.handle, a.handle, c.handle])
    const replaced = await h.nft.rules.replace({
      ...listed[1]!,
      expr: [{ match: { op: '==', left: { payload: { protocol: 'udp', field: 'dport' } }, right: 53 } }, { accept: null }],
    })
    expect(replaced.handle).toBe(a.handle)
    expect(nft('list', 'chain', 'ip', 'x', 'in')).toContain('udp dport 53 accept')
    expect(plain(await h.nft.chains.list({ family: 'ip', table: 'x' }))).toEqual(
      oracle()
        .filter((o) => 'chain' in (o as object))
        .map((o) => (o as { chain: unknown }).chain),
    )
    await h.nft.flush({ family: 'ip', name: 'x' })
    expect(oracle().filter((o) => 'rule' in (o as object))).toEqual([])
    await h.nft.chains.delete({ family: 'ip', table: 'x', name: 'sub' })
    await h.nft.tables.delete({ family: 'ip', name: 'x' })
    expect(oracle()).toEqual([])
    expect(await h.nft.tables.list()).toEqual([])
  })

  it('a batch whose fifth rule is refused by the kernel adds nothing and names rule 5', async () => {
    reset()
    const table = { family: 'inet', name: 'b' } as const
    const rule = (n: number, target?: string): { rule: Rule } => ({
      rule: {
        family: 'inet',
        table: 'b',
        chain: 'c',
        expr: target ? [{ jump: { target } }] : [{ match: { op: '==', left: { meta: { key: 'mark' } }, right: n } }, { accept: null }],
      },
    })
    const items = [
      { table },
      { chain: { family: 'inet', table: 'b', name: 'c' } },
      rule(1),
      rule(2),
      rule(3),
      rule(4),
      rule(5, 'missing'),
      rule(6),
    ] as Ruleset['nftables']
    const err = await h.nft.load({ nftables: items }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BatchError)
    const f = (err as BatchError).failures
    expect(f).toHaveLength(1)
    expect(f[0]!.index).toBe(6) // item 6 = the fifth rule
    expect(f[0]!.code).toBe('ENOENT')
    expect(f[0]!.object).toBe('rule inet b c')
    expect(f[0]!.namespace).toBe(NS)
    expect(oracle()).toEqual([])
  })

  it('bad input is refused before anything is sent', async () => {
    reset()
    const bad = async (p: Promise<unknown>, re: RegExp) => {
      const e = await p.catch((x: unknown) => x)
      expect(isNsnetError(e, 'EINVAL_ARGUMENT'), String(e)).toBe(true)
      expect(String((e as Error).message)).toMatch(re)
    }
    await bad(h.nft.masquerade({ from: '192.168.0.1/24' }), /host bits/)
    await bad(h.nft.dnat({ proto: 'tcp', port: 0, to: '192.168.0.2' }), /port must be an integer in 1..65535/)
    await bad(h.nft.chains.add({ family: 'inet', table: 't', name: 'c', type: 'bogus' as never, hook: 'input', prio: 0 }), /unknown chain type/)
    await bad(h.nft.chains.add({ family: 'inet', table: 't', name: 'c', type: 'filter', hook: 'sideways' as never, prio: 0 }), /unknown hook/)
    await bad(h.nft.tables.add({ family: 'inet', name: 'x'.repeat(256) }), /at most 255/)
    // null where an object or array belongs: a clear refusal, not a TypeError inside (EINTERNAL through the helper).
    await bad(h.nft.tables.list(null as never), /filter must be an object/)
    await bad(h.nft.chains.list(null as never), /filter must be an object/)
    await bad(h.nft.rules.list(null as never), /filter must be an object/)
    await bad(h.nft.rules.addMany(null as never), /rules must be an array/)
    await bad(
      h.nft.load({
        nftables: [
          { table: { family: 'inet', name: 'ok' } },
          {
            rule: {
              family: 'inet',
              table: 'ok',
              chain: 'c',
              expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 99999 } }],
            },
          },
        ],
      }),
      /port/,
    )
    expect(oracle()).toEqual([])
  })

  it('10,000 rules in one call: no ENOBUFS, every rule in place', async () => {
    reset()
    await h.nft.tables.add({ family: 'inet', name: 'big' })
    await h.nft.chains.add({ family: 'inet', table: 'big', name: 'c' })
    const rules: Rule[] = []
    for (let i = 0; i < 10_000; i++) {
      rules.push({
        family: 'inet',
        table: 'big',
        chain: 'c',
        expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 1 + (i % 65535) } }, { counter: null }, { accept: null }],
      })
    }
    const res = await h.nft.rules.addMany(rules)
    expect(res.added).toBe(10_000)
    const listed = await h.nft.rules.list({ family: 'inet', table: 'big' })
    expect(listed).toHaveLength(10_000)
    expect(listed[9_999]!.expr[0]).toEqual({ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 10_000 } })
    const counted = (nft('list', 'chain', 'inet', 'big', 'c').match(/tcp dport \d+ counter/g) ?? []).length
    expect(counted).toBe(10_000)
    reset()
  }, 120_000)
})

describe('rt.nft high level', () => {
  it('masquerade, port forwarding, forward policy and rules, loss: nft lists what the iptables reader expects', async () => {
    reset()
    await h.nft.masquerade({ from: '192.168.0.0/24', notOut: 'br0' })
    await h.nft.dnat({ in: 'eth0', proto: 'tcp', port: 8080, to: '192.168.0.2:80' })
    await h.nft.forwardPolicy('drop')
    await h.nft.allowForward({ established: true })
    await h.nft.allowForward({ in: 'br0', from: '192.168.0.0/24' })
    await h.nft.dropRandom(5, { out: 'eth0' })
    // Adding a forward rule again keeps the policy.
    const text = nft('list', 'table', 'inet', 'nsnet')
    expect(text).toContain('ip saddr 192.168.0.0/24 oifname != "br0" masquerade')
    expect(text).toContain('iifname "eth0" tcp dport 8080 dnat ip to 192.168.0.2:80')
    expect(text).toMatch(/type filter hook forward priority filter; policy drop;/)
    expect(text).toContain('ct state established,related accept')
    expect(text).toContain('iifname "br0" ip saddr 192.168.0.0/24 accept')
    expect(text).toContain('oifname "eth0" numgen random mod 10000 < 500 drop')
    expect(plain((await h.nft.ruleset()).nftables)).toEqual(oracle())
    await h.nft.forwardPolicy('accept')
    await h.nft.flushForward()
    expect(nft('list', 'chain', 'inet', 'nsnet', 'forward')).not.toContain('accept\n\t\t')
    expect(nft('list', 'chain', 'inet', 'nsnet', 'forward')).toMatch(/policy accept;/)
    reset()
  })
})
