// What `nsnet up` shows while it builds: counts and the phase on one line rewritten in place on
// a terminal, one line per step with --verbose, nothing with --quiet (nor off a terminal).
import { Writable } from 'node:stream'
import { describe, expect, test } from 'vitest'
import { progress, progressMode } from '../../src/cli/progress.js'

function sink(columns?: number): NodeJS.WriteStream & { text: string } {
  const s = new Writable({
    write(chunk, _enc, done) {
      s.text += String(chunk)
      done()
    },
  }) as unknown as NodeJS.WriteStream & { text: string }
  s.text = ''
  if (columns !== undefined) (s as { columns?: number }).columns = columns
  return s
}

const steps = [
  ['namespaces', 'ip netns add a'],
  ['namespaces', 'ip netns add b'],
  ['links', 'ip link add eth0 netns a type veth peer name eth0 netns b'],
] as const

describe('progress', () => {
  test('the mode: --quiet wins, then --verbose, else a line on a terminal and nothing off one', () => {
    expect(progressMode({ quiet: true, verbose: true }, true)).toBe('quiet')
    expect(progressMode({ verbose: true }, false)).toBe('verbose')
    expect(progressMode({}, true)).toBe('line')
    expect(progressMode({}, false)).toBe('quiet')
  })

  test('on a terminal: [done/total] phase: command, rewritten in place, cut to the width, cleared at the end', () => {
    const lines = sink()
    const tty = sink(40)
    const p = progress('line', steps.length, lines, tty)
    for (const [phase, command] of steps) p.step(phase, command)
    p.end()
    expect(lines.text).toBe('')
    expect(tty.text.split('\r\x1b[K')).toEqual([
      '',
      '[1/3] namespaces: ip netns add a',
      '[2/3] namespaces: ip netns add b',
      '[3/3] links: ip link add eth0 netns a …',
      '',
    ])
    expect(tty.text.split('\r\x1b[K')[3]!.length).toBeLessThan(40)
  })

  test('--verbose: one line per step on the lines stream; notes go to the terminal stream', () => {
    const lines = sink()
    const tty = sink()
    const p = progress('verbose', steps.length, lines, tty)
    for (const [phase, command] of steps) p.step(phase, command)
    p.note('nsnet up: SIGINT: removing what this run made')
    p.end()
    expect(lines.text).toBe(steps.map(([, c]) => `${c}\n`).join(''))
    expect(tty.text).toBe('nsnet up: SIGINT: removing what this run made\n')
  })

  test('--quiet: nothing at all, not even notes', () => {
    const lines = sink()
    const tty = sink()
    const p = progress('quiet', steps.length, lines, tty)
    for (const [phase, command] of steps) p.step(phase, command)
    p.note('nsnet up: SIGTERM: removing what this run made')
    p.end()
    expect(lines.text + tty.text).toBe('')
  })
})
