// Specs in YAML as well as JSON: the same spec in either gives the same plan, and a syntax
// error names the file, the line and the column.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, test } from 'vitest'
import { parseSpecText, readSpecFile, specFormat } from '../../src/cli/spec-file.js'
import { Topology } from '../../src/topology/topology.js'
import { ensureHelperBundle } from '../netns/support.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'nsnet-spec-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const json = {
  name: 'yamlab',
  pools: [{ name: 'lan', subnet: '10.9.0.0/24' }],
  bridges: [{ name: 'br0', addresses: [{ pool: 'lan' }] }],
  hosts: [
    { name: 'a', gateway: 'br0', sysctls: { 'net.ipv4.conf.all.rp_filter': 0 } },
    { name: 'b', lo: false, processes: [{ name: 'sh', command: ['sh', '-c', 'sleep 1'], readyText: 'no: really' }] },
  ],
  links: [
    { a: { node: 'a', addresses: [{ pool: 'lan' }] }, b: 'br0', rate: '10mbit' },
    { a: { node: 'b', addresses: ['10.9.0.50/24'], mac: '02:00:00:00:00:0b' }, b: 'br0' },
  ],
}

// The same spec as a person would write it: comments, block style, an anchor, quoting only where needed.
const yaml = `# a lab in YAML
name: yamlab
pools:
  - { name: lan, subnet: 10.9.0.0/24 }
bridges:
  - name: br0
    addresses: [ &lan { pool: lan } ]
hosts:
  - name: a
    gateway: br0
    sysctls:
      net.ipv4.conf.all.rp_filter: 0
  - name: b
    lo: false
    processes:
      - name: sh
        command: [sh, -c, sleep 1]
        readyText: "no: really"
links:
  - a: { node: a, addresses: [ *lan ] }
    b: br0
    rate: 10mbit
  - a:
      node: b
      addresses: [10.9.0.50/24]
      mac: "02:00:00:00:00:0b"
    b: br0
`

function file(name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe('YAML specs', () => {
  test('a YAML spec and the same JSON spec give the same spec and the same plan', async () => {
    const fromYaml = await readSpecFile(file('lab.yaml', yaml))
    const fromYml = await readSpecFile(file('lab.yml', yaml))
    const fromJson = await readSpecFile(file('lab.json', JSON.stringify(json)))
    expect(fromYaml).toEqual(json)
    expect(fromYml).toEqual(json)
    expect(fromJson).toEqual(json)
    expect(Topology.plan(fromYaml)).toEqual(Topology.plan(json))
    expect(Topology.script(fromYaml)).toEqual(Topology.script(json))
  })

  test('the format comes from the name; stdin is JSON when it starts with {', () => {
    expect(specFormat('x.yaml', '{}')).toBe('yaml')
    expect(specFormat('x.YML', '')).toBe('yaml')
    expect(specFormat('x.json', 'a: 1')).toBe('json')
    expect(specFormat('-', '  {"a": 1}')).toBe('json')
    expect(specFormat('-', 'a: 1')).toBe('yaml')
  })

  test('a YAML syntax error names the file, the line and the column', async () => {
    const bad = file('bad.yaml', 'name: x\nhosts:\n  - name: a\n\t- name: b\n')
    await expect(readSpecFile(bad)).rejects.toMatchObject({
      code: 'EINVAL_ARGUMENT',
      message: expect.stringMatching(new RegExp(`^the spec ${bad} is not valid YAML \\(line 4, column 1\\): Tabs are not allowed as indentation\\n`)),
    })
    await expect(parseSpecText('a: 1\na: 2\n', 'dup.yml')).rejects.toThrow(/^the spec dup\.yml is not valid YAML \(line 2, column 1\): Map keys must be unique/)
    await expect(parseSpecText('a: *nowhere\n', '-')).rejects.toThrow(/^the spec stdin is not valid YAML: Unresolved alias/)
    await expect(parseSpecText('{"a": 1,\n}', 'x.json')).rejects.toThrow(/^the spec x\.json is not JSON: .* \(line 2\)$/)
  })

  test('YAML 1.2: yes/no/on stay strings, so validate() reports them instead of guessing', async () => {
    const spec = await parseSpecText('hosts:\n  - name: a\n    lo: no\n', 'x.yaml')
    expect(spec).toEqual({ hosts: [{ name: 'a', lo: 'no' }] })
    expect(() => Topology.validate(spec)).toThrow('must be true or false, got "no"')
  })

  test('nsnet script and check read .yaml files; a syntax error exits 1 naming file and line', { timeout: 120_000 }, async () => {
    await ensureHelperBundle() // builds dist/cli.js when the sources are newer
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['dist/cli.js', ...args], { cwd: ROOT }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      )
    const [y, j, check, bad, badJson] = await Promise.all([
      run('script', file('s.yaml', yaml)),
      run('script', file('s.json', JSON.stringify(json))),
      run('check', '--json', file('c.yml', yaml)),
      run('check', file('e.yaml', 'hosts: [\n')),
      run('check', '--json', join(dir, 'e.yaml')),
    ])
    expect(badJson.code).toBe(1)
    expect(JSON.parse(badJson.stdout)).toMatchObject({
      valid: false,
      problems: [{ path: '', message: expect.stringMatching(/is not valid YAML \(line 2, column 1\)/) }],
    })
    expect(y.code).toBe(0)
    expect(y.stdout).toBe(j.stdout)
    expect(JSON.parse(check.stdout)).toEqual({ valid: true, name: 'yamlab', problems: [] })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(new RegExp(`^nsnet: the spec ${join(dir, 'e.yaml')} is not valid YAML \\(line 2, column 1\\): `))
  })
})
