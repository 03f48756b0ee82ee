// NSNET_DEBUG=1 prints every message sent and received, decoded, to stderr. The switch is
// read once at load time, so each case runs in a child process with its own environment.
import { describe, expect, it } from 'vitest'
import { parseMessages, Writer } from '../../src/netlink/codec.js'
import { NLM_F_ACK, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR } from '../../src/netlink/constants.js'
import { describeMessage } from '../../src/netlink/trace.js'
import { RTM_GETLINK } from '../../src/ops/rtnl.js'
import { ROOT, runChild } from '../support/child.js'

const program = `
  import { NetlinkSocket } from '${ROOT}/src/netlink/engine.ts'
  import '${ROOT}/src/ops/rtnl.ts'
  const s = NetlinkSocket.open({ namespace: 'mario' })
  const byName = (w) => { w.zeros(16); const n = Buffer.from('lo\\0'); w.attrBytes(3, n) }
  const [m] = await s.request({ type: 18, expectsReply: true, body: byName })
  await s.request({ type: 17, body: (w) => { w.zeros(4).s32(0x7ffffff0).zeros(8) } }).catch((e) => console.log(e.code))
  const links = await s.dump({ type: 18, body: (w) => { w.zeros(16) } }, () => 1)
  console.log(JSON.stringify({ seq: m.seq, port: s.port, links: links.length }))
  s.close()
`

describe('NSNET_DEBUG trace', () => {
  it('prints each message sent and received, decoded, with the namespace', async () => {
    const r = await runChild(program, { env: { NSNET_DEBUG: '1' } })
    expect(r.code).toBe(0)
    const [code, json] = r.stdout.trim().split('\n')
    expect(code).toBe('ENODEV')
    const { seq, port } = JSON.parse(json!) as { seq: number; port: number }
    const lines = r.stderr.trim().split('\n')
    expect(lines.every((l) => l.startsWith('[nsnet mario] '))).toBe(true)
    // The GET: request with its attributes, the reply, then the ACK, all with one seq.
    expect(lines).toContain(`[nsnet mario] > RTM_GETLINK len=40 flags=ACK (0x5) seq=${seq} port=0 hdr=${'00'.repeat(16)} attrs=[3:6c6f00]`)
    expect(lines.some((l) => l.startsWith(`[nsnet mario] < RTM_NEWLINK len=`) && l.includes(` seq=${seq} port=${port} hdr=`) && /[[ ]3:6c6f00 /.test(l))).toBe(
      true,
    )
    expect(lines).toContain(`[nsnet mario] < NLMSG_ERROR len=36 flags=0x100 seq=${seq} port=${port} ack`)
    // The failing DELLINK: its errno by number and name.
    expect(lines.some((l) => /^\[nsnet mario\] > RTM_DELLINK len=32 flags=ACK \(0x5\) seq=\d+ port=0 hdr=00000000f0ffff7f0{16}$/.test(l))).toBe(true)
    expect(lines.some((l) => /^\[nsnet mario\] < NLMSG_ERROR len=52 flags=0x0 seq=\d+ port=\d+ errno=19 ENODEV$/.test(l))).toBe(true)
    // The dump: flagged parts and the DONE.
    expect(lines.some((l) => /^\[nsnet mario\] > RTM_GETLINK len=32 flags=0x301 seq=\d+ port=0/.test(l))).toBe(true)
    expect(lines.some((l) => l.startsWith('[nsnet mario] < RTM_NEWLINK') && l.includes('flags=MULTI (0x2)'))).toBe(true)
    expect(lines.some((l) => /^\[nsnet mario\] < NLMSG_DONE len=20 flags=MULTI \(0x2\)/.test(l))).toBe(true)
  })

  it('prints nothing when NSNET_DEBUG is unset or 0', async () => {
    for (const env of [{}, { NSNET_DEBUG: '0' }] as Array<Record<string, string>>) {
      const r = await runChild(program, { env })
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
      expect(r.stdout).toContain('ENODEV')
    }
  })

  it('describeMessage names flags, and never throws on malformed attributes', () => {
    const w = new Writer()
    let s = w.beginMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 5, 0)
    w.zeros(16).attrStr(3, 'x').attrU32(4, 0x01020304)
    w.u16(200).u16(9) // an attribute that claims 200 bytes
    w.endMessage(s)
    s = w.beginMessage(NLMSG_DONE, NLM_F_MULTI | 0x10, 5, 7)
    w.s32(0)
    w.endMessage(s)
    s = w.beginMessage(NLMSG_ERROR, 0, 5, 7)
    w.s32(-17)
    w.zeros(16)
    w.endMessage(s)
    const [get, done, err] = parseMessages(w.toBuffer())
    expect(describeMessage(get!)).toBe(
      `RTM_GETLINK len=${get!.end - get!.start + 16} flags=ACK (0x5) seq=5 port=0 hdr=${'00'.repeat(16)} ` +
        'attrs=[3:7800 4:04030201] (malformed attributes: bad attribute length 200 at offset 16)',
    )
    expect(describeMessage(done!)).toBe('NLMSG_DONE len=20 flags=MULTI|DUMP_INTR (0x12) seq=5 port=7')
    expect(describeMessage(err!)).toBe('NLMSG_ERROR len=36 flags=0x0 seq=5 port=7 errno=17 EEXIST')
  })
})
