// ethtool features over generic netlink, with ethtool(8) as the oracle both ways:
// rt.ethtool.features() equals `ethtool -k -j`; what setFeatures() changes `ethtool -k`
// shows, and what `ethtool -K` changes features() reads; the same through netns.open().
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { netns } from '../../src/netns/index.js'
import { Rtnl } from '../../src/rtnl.js'
import { ensureHelperBundle, ip } from '../netns/support.js'

const haveEthtool = existsSync('/usr/sbin/ethtool') || existsSync('/sbin/ethtool')
const ethtoolJson = (dev: string, ns?: string) =>
  JSON.parse(execFileSync(ns ? 'ip' : 'ethtool', [...(ns ? ['netns', 'exec', ns, 'ethtool'] : []), '--json', '-k', dev], { encoding: 'utf8' }))[0]

describe.skipIf(!haveEthtool)(`ethtool features${haveEthtool ? '' : ' (skipped: ethtool is not installed)'}`, () => {
  let rt: Rtnl
  beforeAll(async () => {
    rt = await Rtnl.open()
    ip('link', 'add', 'et0', 'type', 'veth', 'peer', 'name', 'et1')
  })
  afterAll(async () => {
    ip('link', 'del', 'et0')
    await rt?.close()
  })

  test('features() equals ethtool -k -j, feature by feature', async () => {
    for (const dev of ['lo', 'et0']) {
      const mine = await rt.ethtool.features(dev)
      expect(mine).toEqual(ethtoolJson(dev))
      expect(Object.isFrozen(mine)).toBe(true)
    }
  })

  test('setFeatures({ tx: false }) is ethtool -K tx off; it reports what changed', async () => {
    const changed = await rt.ethtool.setFeatures('et0', { tx: false })
    expect(Object.keys(changed).length).toBeGreaterThan(0)
    for (const [k, v] of Object.entries(changed)) {
      expect(v).toBe(false)
      expect(k).toMatch(/^tx-checksum-/)
    }
    const text = execFileSync('ethtool', ['-k', 'et0'], { encoding: 'utf8' })
    expect(text).toMatch(/^tx-checksumming: off$/m)
    expect(await rt.ethtool.features('et0')).toEqual(ethtoolJson('et0'))
    // Setting what already holds changes nothing.
    expect(await rt.ethtool.setFeatures('et0', { 'tx-checksumming': false })).toEqual({})
  })

  test('what ethtool -K changes, features() reads', async () => {
    execFileSync('ethtool', ['-K', 'et0', 'gro', 'off', 'tx', 'on'])
    const f = await rt.ethtool.features('et0')
    expect(f['generic-receive-offload']).toMatchObject({ active: false, requested: false })
    expect(f['tx-checksumming']).toMatchObject({ active: true })
    await rt.ethtool.setFeatures('et0', { 'rx-gro': true })
    expect(ethtoolJson('et0')['generic-receive-offload'].active).toBe(true)
  })

  test('unknown and fixed features, bad input and missing devices are clear errors', async () => {
    expect((await rt.ethtool.setFeatures('et0', { 'no-such-feature': true }).catch((x) => x)).code).toBe('EINVAL_ARGUMENT')
    const fixed = await rt.ethtool.setFeatures('et0', { 'rx-lro': true }).catch((x) => x)
    expect(fixed.code).toBe('EOPNOTSUPP')
    expect(fixed.summary).toMatch(/rx-lro is fixed off/)
    expect((await rt.ethtool.setFeatures('et0', { tx: 'off' as never }).catch((x) => x)).code).toBe('EINVAL_ARGUMENT')
    const missing = await rt.ethtool.features('nosuchdev').catch((x) => x)
    expect(missing.code).toBe('ENODEV')
    expect(missing.object).toBe('link nosuchdev')
    expect((await rt.ethtool.features('a-name-of-16-byt').catch((x) => x)).code).toBe('EINVAL_ARGUMENT')
  })

  test('the same through netns.open()', async () => {
    await ensureHelperBundle()
    await netns.add('eth-ns1')
    try {
      ip('link', 'add', 'en0', 'netns', 'eth-ns1', 'type', 'veth', 'peer', 'name', 'en1', 'netns', 'eth-ns1')
      await using h = await netns.open('eth-ns1')
      expect(await h.ethtool.features('en0')).toEqual(ethtoolJson('en0', 'eth-ns1'))
      await h.ethtool.setFeatures('en0', { tx: false })
      expect(ethtoolJson('en0', 'eth-ns1')['tx-checksumming'].active).toBe(false)
      const e = await h.ethtool.features('et0').catch((x) => x)
      expect(e.code).toBe('ENODEV')
      expect(e.namespace).toBe('eth-ns1')
    } finally {
      await netns.delete('eth-ns1')
    }
  })
})
