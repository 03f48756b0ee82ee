// The error codes are a closed, documented list: every code nsnet's sources raise is one of
// NSNET_CODES or an errno name, and the README's table lists exactly NSNET_CODES.
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { codeOf, errorFromJSON, isNsnetErrorCode, NSNET_CODES } from '../../src/netlink/errors.js'

const ROOT = new URL('../../', import.meta.url)

describe('error codes', () => {
  test('the README table lists exactly NSNET_CODES, with the same meanings', () => {
    const readme = readFileSync(new URL('README.md', ROOT), 'utf8')
    const section = readme.slice(readme.indexOf('### Error codes'), readme.indexOf('\n### ', readme.indexOf('### Error codes') + 5))
    const rows = [...section.matchAll(/^\| `([A-Z_0-9]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]!.replace(/`/g, '')])
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(NSNET_CODES).map(([k, v]) => [k, v.replace(/`/g, '')])))
  })

  test('every code literal in src/ is a known code', () => {
    const dir = new URL('src/', ROOT)
    const codes = new Set<string>()
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.ts'))) {
      for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/\bcode: '([A-Z][A-Z_0-9]+)'/g)) codes.add(m[1]!)
    }
    expect(codes.size).toBeGreaterThan(10)
    expect([...codes].filter((c) => !isNsnetErrorCode(c))).toEqual([])
  })

  test('codes from outside (Node errors, JSON from a helper) are mapped into the union', () => {
    expect(codeOf({ code: 'ENOENT' })).toBe('ENOENT')
    expect(codeOf({ code: 'ERR_INVALID_ARG_TYPE' })).toBe('EIO')
    expect(codeOf(new TypeError('x'), 'EINTERNAL')).toBe('EINTERNAL')
    expect(isNsnetErrorCode('E1234')).toBe(true)
    expect(errorFromJSON({ name: 'NsnetError', message: 'm', summary: 'm', code: 'NOT_A_CODE' as 'EIO' }).code).toBe('EINTERNAL')
  })
})
