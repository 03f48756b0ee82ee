// Bridge messages byte for byte against what `bridge` sends (test/golden/bridge, captured with
// strace by test/golden/bridge/capture.sh). The VLAN captures come from a kernel without VLAN
// filtering: it answered EOPNOTSUPP, but the requests are what bridge sends everywhere.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseErrorMessage, parseMessages, type RawMessage, Writer } from '../../../src/netlink/codec.js'
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NLMSG_ERROR } from '../../../src/netlink/constants.js'
import { encodeFdb, type FdbSpec, writeFdb } from '../../../src/ops/bridge/fdb.js'
import { type BridgePortOptions, encodePortOptions, writePortOptions } from '../../../src/ops/bridge/ports.js'
import { type BridgeVlanSpec, encodeVlan, writeVlan, writeVlanDump } from '../../../src/ops/bridge/vlans.js'
import { SpecCheck } from '../../../src/ops/spec-check.js'

const RTM_DELLINK = 17,
  RTM_GETLINK = 18,
  RTM_SETLINK = 19,
  RTM_NEWNEIGH = 28,
  RTM_DELNEIGH = 29
const AF_BRIDGE = 7

interface Golden {
  command: string
  exchanges: Array<{ dir: string; hex: string }>
}
const load = (name: string): Golden => JSON.parse(readFileSync(new URL(`../../golden/bridge/${name}.json`, import.meta.url), 'utf8')) as Golden

/** bridge's message of `type` with family AF_BRIDGE (its first send is the ll_init_map link dump). */
function theirs(name: string, type: number): RawMessage {
  for (const e of load(name).exchanges.filter((x) => x.dir === 'send')) {
    for (const m of parseMessages(Buffer.from(e.hex, 'hex'))) if (m.type === type && m.buf[m.start] === AF_BRIDGE) return m
  }
  throw new Error(`no message of type ${type} in ${name}`)
}

/** The kernel's answer to bridge's request (errno, 0 for an ACK). */
function answer(name: string): number {
  for (const e of load(name).exchanges.filter((x) => x.dir === 'recv')) {
    for (const m of parseMessages(Buffer.from(e.hex, 'hex'))) if (m.type === NLMSG_ERROR) return parseErrorMessage(m).errno
  }
  throw new Error(`no answer in ${name}`)
}

function message(type: number, flags: number, body: (w: Writer) => void): RawMessage {
  const w = new Writer()
  const start = w.beginMessage(type, flags, 1)
  body(w)
  w.endMessage(start)
  return parseMessages(w.toBuffer())[0]!
}

/** Type, flags and the payload after the header (seq and port differ by nature). */
const same = (m: RawMessage) => ({ type: m.type, flags: m.flags, payload: m.buf.toString('hex', m.start, m.end) })
const ifindexOf = (m: RawMessage) => m.buf.readInt32LE(m.start + 4)
const check = (operation: string) => new SpecCheck({ operation, object: 'golden' })

describe('bridge vlan: the same bytes as bridge vlan add/del', () => {
  const cases: Array<[string, number, BridgeVlanSpec]> = [
    ['vlan-add', RTM_SETLINK, { vid: 10 }],
    ['vlan-add-pvid-untagged', RTM_SETLINK, { vid: 20, pvid: true, untagged: true }],
    ['vlan-add-range', RTM_SETLINK, { vid: '100-200', untagged: true }],
    ['vlan-add-self', RTM_SETLINK, { vid: 30, self: true }],
    ['vlan-add-master', RTM_SETLINK, { vid: 40, master: true }],
    ['vlan-del', RTM_DELLINK, { vid: 10 }],
    ['vlan-del-range', RTM_DELLINK, { vid: 100, vidEnd: 200 }],
  ]
  for (const [name, type, spec] of cases) {
    it(`${name}: \`${load(name).command}\``, () => {
      const m = theirs(name, type)
      const e = encodeVlan(spec, check('bridge.vlans.add'), 'bv0')
      expect(same(message(type, NLM_F_REQUEST | NLM_F_ACK, (w) => writeVlan(w, ifindexOf(m), e)))).toEqual(same(m))
    })
  }

  it('the kernel these were captured on refused the adds with EOPNOTSUPP (no VLAN filtering) and acked the deletes', () => {
    for (const [name, type] of cases) expect(answer(name)).toBe(type === RTM_SETLINK ? 95 : 0)
  })

  it('vlan list asks what `bridge -compressvlans vlan show` asks', () => {
    const m = theirs('vlan-show', RTM_GETLINK)
    expect(same(message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, writeVlanDump))).toEqual(same(m))
  })
})

describe('bridge fdb and link set: the same bytes as bridge', () => {
  const fdb: Array<[string, number, number, FdbSpec]> = [
    ['fdb-add-master-static', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, { mac: '02:00:00:00:00:01', dev: 'bv0', master: true, state: 'static' }],
    ['fdb-add-vxlan', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, { mac: '02:00:00:00:00:02', dev: 'bx0', dst: '10.1.0.5', port: 4790, vni: 43, self: true }],
    ['fdb-del-master', RTM_DELNEIGH, 0, { mac: '02:00:00:00:00:01', dev: 'bv0', master: true }],
  ]
  for (const [name, type, flags, spec] of fdb) {
    it(`${name}: \`${load(name).command}\``, () => {
      const m = theirs(name, type)
      const e = encodeFdb(spec, check('bridge.fdb.add'))
      expect(same(message(type, NLM_F_REQUEST | NLM_F_ACK | flags, (w) => writeFdb(w, e, ifindexOf(m), undefined)))).toEqual(same(m))
      expect(answer(name)).toBe(0)
    })
  }

  it(`link-set: \`${load('link-set').command}\``, () => {
    const m = theirs('link-set', RTM_SETLINK)
    const opts: BridgePortOptions = { cost: 7, priority: 3, learning: false, flood: false, hairpin: true, isolated: true, neigh_suppress: true }
    const e = encodePortOptions(opts, check('bridge.links.set'))
    expect(same(message(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, (w) => writePortOptions(w, ifindexOf(m), e, undefined)))).toEqual(same(m))
    expect(answer('link-set')).toBe(0)
  })
})
