// A user's CommonJS program (compiled to require() calls): the package index, nsnet/testing,
// and the clear error that nsnet/testing/vitest gives when required.
import { isNsnetError, type Link, netns, Rtnl } from 'nsnet'
import { uniquePrefix } from 'nsnet/testing'

async function main(): Promise<void> {
  const rt = await Rtnl.open()
  const links: Link[] = await rt.links.list()
  await rt.close()
  const name = `${uniquePrefix()}cjs`
  await netns.add(name)
  const h = await netns.open(name)
  const inner = await h.links.list()
  await h.close()
  await netns.delete(name)
  let vitestMessage = ''
  try {
    require('nsnet/testing/vitest')
  } catch (e) {
    vitestMessage = String((e as Error).message)
  }
  if (!vitestMessage.includes("import { test } from 'nsnet/testing/vitest'")) throw new Error(`require('nsnet/testing/vitest') said: ${vitestMessage}`)
  console.log(JSON.stringify({ ok: true, links: links.map((l) => l.ifname), inner: inner.map((l) => l.ifname), isNsnetError: typeof isNsnetError }))
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
