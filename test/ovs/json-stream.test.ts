// The streaming reader against OVSDB's framing: values back to back with no delimiter,
// strings holding braces, brackets, quotes and escapes, multibyte UTF-8, and every way a
// stream can be cut into chunks.
import { describe, expect, test } from 'vitest'
import { JsonStreamError, JsonStreamReader } from '../../src/ovs/json-stream.js'

const messages: unknown[] = [
  { id: 1, result: ['Open_vSwitch', '_Server'], error: null },
  { id: null, method: 'update2', params: ['m', { Bridge: { u: { insert: { name: 'b{r}[0]' } } } }] },
  { id: 2, result: [{ rows: [{ s: 'quote \\" and \\\\ and } { ] [' }] }], error: null },
  { id: 3, result: [{ s: 'ünïcødé ✓ 🐧' }], error: null },
  { id: 'echo', method: 'echo', params: [] },
  [1, [2, [3, {}]], '"]'],
  { id: 4, error: 'unknown method' },
]
const wire = Buffer.from(messages.map((m) => JSON.stringify(m)).join(''), 'utf8')

function readAll(chunks: Buffer[]): unknown[] {
  const out: unknown[] = []
  const r = new JsonStreamReader((v) => out.push(v))
  for (const c of chunks) r.push(c)
  expect(r.midValue).toBe(false)
  return out
}

/** Small deterministic PRNG so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

describe('JsonStreamReader', () => {
  test('back-to-back values in one chunk', () => {
    expect(readAll([wire])).toEqual(messages)
  })

  test('one byte at a time (cuts inside strings, escapes and UTF-8 sequences)', () => {
    expect(readAll([...wire].map((b) => Buffer.from([b])))).toEqual(messages)
  })

  test('every single cut point', () => {
    for (let i = 1; i < wire.length; i++) expect(readAll([wire.subarray(0, i), wire.subarray(i)])).toEqual(messages)
  })

  test('random chunkings (fuzzed boundaries, 500 seeds)', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const rand = rng(seed)
      const chunks: Buffer[] = []
      for (let i = 0; i < wire.length; ) {
        const n = 1 + Math.floor(rand() * 40)
        chunks.push(wire.subarray(i, i + n))
        i += n
      }
      expect(readAll(chunks), `seed ${seed}`).toEqual(messages)
    }
  })

  test('whitespace between values is skipped', () => {
    expect(readAll([Buffer.from(' {"a":1}\n\t{"b":[2]}\r\n ')])).toEqual([{ a: 1 }, { b: [2] }])
  })

  test('a chunk that reuses its buffer does not corrupt a pending value', () => {
    const out: unknown[] = []
    const r = new JsonStreamReader((v) => out.push(v))
    const buf = Buffer.from('{"a":"xy')
    r.push(buf)
    buf.fill(0x20)
    r.push(Buffer.from('z"}'))
    expect(out).toEqual([{ a: 'xyz' }])
  })

  test('garbage between messages and invalid JSON throw JsonStreamError', () => {
    expect(() => readAll([Buffer.from('{"a":1} x')])).toThrow(JsonStreamError)
    expect(() => readAll([Buffer.from('{"a":tru}')])).toThrow(JsonStreamError)
  })

  test('an unfinished value is reported by midValue', () => {
    const r = new JsonStreamReader(() => undefined)
    r.push(Buffer.from('{"a":"}'))
    expect(r.midValue).toBe(true)
  })

  test('a value larger than maxBytes is refused', () => {
    const r = new JsonStreamReader(() => undefined, { maxBytes: 16 })
    expect(() => {
      r.push(Buffer.from('{"a":"'))
      r.push(Buffer.alloc(32, 0x61))
    }).toThrow(/exceeds 16 bytes/)
  })
})
