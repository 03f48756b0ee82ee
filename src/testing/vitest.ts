// A vitest fixture: `test('...', async ({ labs }) => { const lab = await labs.up(spec) })`.
// Every lab a test builds gets a namespace prefix unique to its worker, and is taken down
// when the test ends, passed or failed. Import from here only in vitest suites.
import { test as base } from 'vitest'
// From nsnet/testing (not ./lab.js), so the bundled dist/testing/vitest.js shares its classes.
import { LabSet } from './index.js'

export interface NsnetFixtures {
  /** Builds labs for this test (`labs.up(spec)`), hands out unique names and subnets, takes them down after. */
  readonly labs: LabSet
}

export const test = base.extend<NsnetFixtures>({
  // eslint-disable-next-line no-empty-pattern
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; labs has none
  labs: async ({}, use) => {
    const set = new LabSet()
    try {
      await use(set)
    } finally {
      await set.downAll()
    }
  },
})

export { LabSet, uniqueIfname, uniquePrefix, uniqueSubnet, withLab } from './index.js'
