// The nf_tables codec against nft 1.0.6's own bytes (test/golden/nftables/*.json, made by
// capture.sh there): what nft sent decodes to objects that encode back to the same bytes,
// and what the kernel listed to nft decodes to exactly nft's `nft -j list ruleset`.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseMessages, type RawMessage, Writer } from '../../src/netlink/codec.js'
import { NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE, nftType } from '../../src/nftables/constants.js'
import { chainBody, decodeChain, decodeRule, decodeTable, ruleBody, tableBody } from '../../src/nftables/objects.js'
import { delinearize, linearize } from '../../src/nftables/statements.js'

const dir = fileURLToPath(new URL('../golden/nftables/', import.meta.url))
const vectors = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(dir + f, 'utf8')))
const where = { operation: 'test' }

function encode(type: number, flags: number, body: (w: Writer) => void): Buffer {
  const w = new Writer()
  const at = w.beginMessage(type, flags, 0)
  body(w)
  w.endMessage(at)
  return w.toBuffer()
}

/** The message's bytes with its sequence number zeroed (ours are the engine's). */
function bytesOf(m: RawMessage): Buffer {
  const b = Buffer.from(m.buf.subarray(m.start - 16, m.end))
  b.writeUInt32LE(0, 8)
  return b
}

describe.each(vectors)('nft vector $name', (v) => {
  const batch = v.add.filter((e: { syscall: string }) => e.syscall === 'sendmsg').map((e: { hex: string }) => Buffer.from(e.hex, 'hex'))
  const members = batch.flatMap((d: Buffer) => parseMessages(d)).filter((m: RawMessage) => m.type !== NFNL_MSG_BATCH_BEGIN && m.type !== NFNL_MSG_BATCH_END)

  it('captured a batch with members', () => {
    expect(members.length).toBeGreaterThan(2)
  })

  it('decodes every member nft sent and encodes it back to the same bytes', () => {
    for (const m of members as RawMessage[]) {
      let ours: Buffer
      if (m.type === nftType(NFT_MSG_NEWTABLE)) ours = encode(m.type, m.flags, tableBody(decodeTable(m)!, where, true))
      else if (m.type === nftType(NFT_MSG_NEWCHAIN)) ours = encode(m.type, m.flags, chainBody(decodeChain(m)!, where, true))
      else if (m.type === nftType(NFT_MSG_NEWRULE)) {
        const rule = decodeRule(m)!
        expect(JSON.stringify(rule.expr)).not.toContain('"raw"')
        ours = encode(m.type, m.flags, ruleBody(rule, where))
      } else throw new Error(`unexpected member type ${m.type}`)
      expect(ours.toString('hex')).toBe(bytesOf(m).toString('hex'))
    }
  })

  it('decodes the kernel listing exactly as nft -j list ruleset prints it', () => {
    const recv = v.list.filter((e: { dir: string }) => e.dir === 'recv').flatMap((e: { hex: string }) => parseMessages(Buffer.from(e.hex, 'hex')))
    const tables = recv.filter((m: RawMessage) => m.type === nftType(0)).map(decodeTable)
    const chains = recv.filter((m: RawMessage) => m.type === nftType(3)).map(decodeChain)
    const rules = recv.filter((m: RawMessage) => m.type === nftType(6)).map(decodeRule)
    const ours: unknown[] = []
    for (const t of tables) {
      ours.push({ table: t })
      const mine = chains.filter((c: { table: string }) => c.table === t.name)
      for (const c of mine) ours.push({ chain: c })
      for (const c of mine) for (const r of rules) if (r.table === t.name && r.chain === c.name) ours.push({ rule: r })
    }
    const theirs = v.listing.nftables.filter((o: object) => !('metainfo' in o))
    expect(JSON.parse(JSON.stringify(ours))).toEqual(theirs)
  })
})

describe('statements', () => {
  const ctx = { operation: 'test', object: 'rule inet t c' }
  it('refuses a prefix with host bits, naming the statement', () => {
    expect(() =>
      linearize(
        'inet',
        [{ accept: null }, { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { prefix: { addr: '192.168.0.1', len: 24 } } } }],
        ctx,
      ),
    ).toThrow(/statement 2: prefix 192.168.0.1\/24 has host bits set \(the network is 192.168.0.0\/24\)/)
  })
  it('refuses a port outside 1..65535', () => {
    expect(() => linearize('ip', [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 70000 } }], ctx)).toThrow(
      /port must be an integer in 1..65535/,
    )
  })
  it('refuses an ip6 match in an ip table and an unknown statement', () => {
    expect(() => linearize('ip', [{ match: { op: '==', left: { payload: { protocol: 'ip6', field: 'saddr' } }, right: '::1' } }], ctx)).toThrow(/family ip/)
    expect(() => linearize('ip', [{ bogus: null } as never], ctx)).toThrow(/unknown statement "bogus"/)
  })
  it('keeps an expression it cannot read as a statement raw, and encodes it back unchanged', () => {
    const exprs = [
      { name: 'fib', raw: Buffer.from('0800010000000001', 'hex') },
      { name: 'immediate', dreg: 0, verdict: { code: 1 } },
    ] as const
    const stmts = delinearize('inet', exprs as never)
    expect(stmts).toEqual([{ raw: { name: 'fib', data: '0800010000000001' } }, { accept: null }])
    expect(linearize('inet', stmts, ctx)).toEqual(exprs)
  })
})
