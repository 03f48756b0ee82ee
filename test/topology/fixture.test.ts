// The vitest fixture and the plain helper: labs with worker-unique names, built in
// parallel without colliding, always taken down.
import { expect } from 'vitest'
import { LabSet, uniqueIfname, uniquePrefix, uniqueSubnet, withLab } from '../../src/testing/lab.js'
import { test } from '../../src/testing/vitest.js'
import type { TopologySpec } from '../../src/topology/spec.js'
import { ensureHelperBundle, runNetnsEntries } from '../netns/support.js'

await ensureHelperBundle()

const pair: TopologySpec = {
  name: 'pair',
  hosts: [{ name: 'left' }, { name: 'right' }],
  links: [{ a: { node: 'left', addresses: ['10.9.0.1/24'] }, b: { node: 'right', addresses: ['10.9.0.2/24'] } }],
}

test('names and subnets do not repeat', () => {
  const prefixes = new Set(Array.from({ length: 50 }, () => uniquePrefix()))
  const ifnames = new Set(Array.from({ length: 50 }, () => uniqueIfname('br')))
  const subnets = new Set(Array.from({ length: 50 }, () => uniqueSubnet()))
  expect(prefixes.size).toBe(50)
  expect(ifnames.size).toBe(50)
  expect(subnets.size).toBe(50)
  for (const n of ifnames) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(15)
  for (const s of subnets) expect(s).toMatch(/^10\.\d+\.\d+\.0\/24$/)
})

test('the same spec twice at once: two labs, distinct namespaces', async ({ labs }) => {
  const [a, b] = await Promise.all([labs.up(pair), labs.up(pair)])
  expect(a.netns('left')).not.toBe(b.netns('left'))
  expect(runNetnsEntries()).toEqual([a.netns('left'), a.netns('right'), b.netns('left'), b.netns('right')].sort())
  expect((await a.ping('left', 'right')).ok).toBe(true)
  expect((await b.ping('right', 'left')).ok).toBe(true)
})

test('after a test, its labs are gone', () => {
  expect(runNetnsEntries()).toEqual([])
})

test('a bridge in the current namespace with a unique name', async ({ labs }) => {
  const br = labs.ifname('br')
  const lab = await labs.up({
    hosts: [{ name: 'h' }],
    bridges: [{ name: br, addresses: ['10.9.1.1/24'] }],
    links: [{ a: { node: 'h', addresses: ['10.9.1.2/24'] }, b: { node: br, ifname: labs.ifname('p') } }],
  })
  expect((await lab.ping('h', br)).ok).toBe(true)
})

test('withLab takes the lab down even when the body throws', async () => {
  let seen: string | null = null
  await expect(
    withLab(pair, async (lab) => {
      seen = lab.netns('left')
      expect(runNetnsEntries()).toContain(seen)
      throw new Error('boom')
    }),
  ).rejects.toThrow('boom')
  expect(seen).toMatch(/left$/)
  expect(runNetnsEntries()).toEqual([])
})

test('LabSet for other runners', async () => {
  const set = new LabSet()
  const lab = await set.up(pair)
  expect(lab.netns('right')).toMatch(/^w\d+p[0-9a-z]+-[0-9a-z]+-right$/)
  await set.downAll()
  expect(runNetnsEntries()).toEqual([])
})
