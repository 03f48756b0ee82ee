// Issue 8, item 5 (namespaces): netns.exec/spawn options are checked before anything is
// spawned, and setResolvConf on a missing namespace is ENOTFOUND without creating
// /etc/netns/NAME. On the old code `input: 5` threw a raw TypeError after spawning (the
// program stayed running) and NaN or negative timeouts killed the program at once.
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { NsnetError } from '../../src/netlink/errors.js'
import { spawnIn } from '../../src/netns/exec.js'
import { netns } from '../../src/netns/index.js'
import { ip, sleep } from '../netns/support.js'

const NS = 'opts-ns'
beforeAll(() => {
  ip('netns', 'add', NS)
})
afterAll(() => {
  ip('netns', 'del', NS)
})

/** Whatever runs inside NS (nothing should, after a refused call). */
const inside = () => netns.pids(NS)

async function refusal(fn: () => unknown): Promise<NsnetError> {
  let err: unknown
  try {
    await fn()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(NsnetError)
  return err as NsnetError
}

describe('netns.exec options', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['input of the wrong type', { input: 5 }, /input must be a string/],
    ['NaN timeoutMs', { timeoutMs: NaN }, /timeoutMs must be a number of milliseconds/],
    ['negative timeoutMs', { timeoutMs: -1 }, /timeoutMs/],
    ['huge timeoutMs (setTimeout would fire at once)', { timeoutMs: 2 ** 40 }, /timeoutMs/],
    ['a string timeoutMs', { timeoutMs: '100' }, /timeoutMs/],
    ['a signal that is not an AbortSignal', { signal: 'SIGKILL' }, /signal must be an AbortSignal/],
    ['null options', null, /options must be an object, got null/],
    ['an unknown option', { timeout: 100 }, /options has unknown field "timeout"/],
    ['env with a non-string value', { env: { A: 1 } }, /env\.A must be a string/],
  ]
  for (const [what, opts, message] of cases) {
    test(`${what} is EINVAL_ARGUMENT naming the field, and nothing runs`, async () => {
      const err = await refusal(() => netns.exec(NS, ['sleep', '3'], opts as never))
      expect(err.code).toBe('EINVAL_ARGUMENT')
      expect(err.message).toMatch(message)
      expect(err.namespace).toBe(NS)
      await sleep(100)
      expect(await inside()).toEqual([])
    })
  }

  test('a good timeout still works (and still kills what overstays)', async () => {
    const t0 = Date.now()
    const err = await refusal(() => netns.exec(NS, ['sleep', '30'], { timeoutMs: 300 }))
    expect(err.code).toBe('ETIMEDOUT')
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect((await netns.exec(NS, ['cat'], { input: 'hi', timeoutMs: 20_000 })).stdout).toBe('hi')
  })

  test('the same checks through a handle', async () => {
    const h = await netns.open(NS)
    try {
      const err = await refusal(() => h.exec(['sleep', '3'], { input: 5 } as never))
      expect(err.code).toBe('EINVAL_ARGUMENT')
      expect(err.message).toMatch(/input/)
    } finally {
      await h.close()
    }
  })
})

describe('spawn options (handle.spawn, spawnIn)', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['null options', null, /options must be an object/],
    ['a bad killSignal', { killSignal: 'SIGNOPE' }, /killSignal is not a signal/],
    ['a negative timeout', { timeout: -5 }, /timeout must be a number/],
    ['a shell (never: argv is not a command line)', { shell: true }, /options has unknown field "shell"/],
    ['a cwd of the wrong type', { cwd: 7 }, /cwd must be a directory path/],
  ]
  for (const [what, opts, message] of cases) {
    test(`${what} is EINVAL_ARGUMENT before anything is spawned`, async () => {
      const err = await refusal(() => spawnIn(NS, ['sleep', '3'], opts as never))
      expect(err.code).toBe('EINVAL_ARGUMENT')
      expect(err.message).toMatch(message)
      await sleep(100)
      expect(await inside()).toEqual([])
    })
  }
})

test('setResolvConf on a namespace that does not exist is ENOTFOUND and creates nothing', async () => {
  const err = await refusal(() => netns.setResolvConf('no-such-ns', ['nameserver 192.0.2.53']))
  expect(err.code).toBe('ENOTFOUND')
  expect(err.message).toMatch(/no-such-ns/)
  expect(existsSync('/etc/netns/no-such-ns')).toBe(false)
})

test('methods the ops classes keep private are not callable through a handle', async () => {
  const h = await netns.open(NS)
  try {
    for (const op of ['links.explainAddError', 'links.resolveLinks', 'links.fetch', 'routes.constructor']) {
      const err = await refusal(() => h.call(op as never, [] as never))
      expect(err.code).toBe('EINVAL_ARGUMENT')
      expect(err.message).toMatch(/has no public method/)
    }
    expect(Array.isArray(await h.links.list())).toBe(true)
  } finally {
    await h.close()
  }
})
