// A user's ES module program: the package index, nsnet/testing, the types, and a namespace
// reached through the helper (test/package/check.mjs runs it in a throwaway namespace).
import * as nsnet from 'nsnet'
import { isNsnetError, type Link, type NsnetErrorCode, netns, Rtnl, Topology } from 'nsnet'
import { uniquePrefix } from 'nsnet/testing'
import type { NsnetFixtures } from 'nsnet/testing/vitest' // the fixture itself runs in labs.test.ts, under vitest

if ('LabSet' in nsnet) throw new Error('the package index exports the test helpers')
const fixtures: (keyof NsnetFixtures)[] = ['labs']

const rt = await Rtnl.open()
const links: Link[] = await rt.links.list()
await rt.close()
const lo = links.find((l) => l.ifname === 'lo')
if (!lo) throw new Error('no lo in the current namespace')

const name = `${uniquePrefix()}esm`
await netns.add(name)
const h = await netns.open(name)
const inner = await h.links.list()
let code: NsnetErrorCode | undefined
try {
  await h.links.get('no-such-link')
} catch (e) {
  if (isNsnetError(e)) code = e.code
}
await h.close()
await netns.delete(name)
if (code !== 'ENODEV') throw new Error(`a missing link gave ${code}`)

const script = Topology.script({ hosts: [{ name: 'a' }, { name: 'b' }], links: [{ a: 'a', b: 'b' }] })
console.log(JSON.stringify({ ok: true, lo: lo.ifname, inner: inner.map((l) => l.ifname), fixtures, script: script.length > 0 }))
