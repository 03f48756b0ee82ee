// The vitest fixture from the installed package: a lab per test, taken down after it.

import { test } from 'nsnet/testing/vitest'
import { expect } from 'vitest'

test('a lab built through the labs fixture answers ping', { timeout: 60_000 }, async ({ labs }) => {
  const lab = await labs.up({
    hosts: [{ name: 'a' }, { name: 'b' }],
    links: [{ a: { node: 'a', addresses: ['10.9.0.1/24'] }, b: { node: 'b', addresses: ['10.9.0.2/24'] } }],
  })
  expect((await lab.ping('a', 'b')).ok).toBe(true)
})
