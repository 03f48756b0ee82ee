// A vitest fixture: `test('...', async ({ labs }) => { const lab = await labs.up(spec) })`.
// Every lab a test builds gets a namespace prefix unique to its worker, and is taken down
// when the test ends, passed or failed. Import from here only in vitest suites.
import { test as base } from 'vitest'
import { LabSet } from './lab.js'

export interface NsnetFixtures {
  /** Builds labs for this test (`labs.up(spec)`), hands out unique names and subnets, takes them down after. */
  readonly labs: LabSet
}

export const test = base.extend<NsnetFixtures>({
  // eslint-disable-next-line no-empty-pattern
  labs: async ({}, use) => {
    const set = new LabSet()
    try {
      await use(set)
    } finally {
      await set.downAll()
    }
  },
})

export { LabSet, withLab, uniqueIfname, uniquePrefix, uniqueSubnet } from './lab.js'
