// Reading a spec file for the CLI: JSON (`.json`), or YAML (`.yaml`, `.yml`) for people who
// write specs by hand. `-` is stdin, read as JSON when it starts with `{`, else as YAML.
// The YAML parser is loaded only for YAML, so a JSON spec starts no slower.
import { readFileSync } from 'node:fs'
import { NsnetError } from '../netlink/errors.js'
import type { TopologySpec } from '../topology/spec.js'

/** The format a spec's name (or, for stdin, its text) says it is in. */
export function specFormat(path: string, text: string): 'json' | 'yaml' {
  if (/\.ya?ml$/i.test(path)) return 'yaml'
  if (path === '-') return text.trimStart().startsWith('{') ? 'json' : 'yaml'
  return 'json'
}

/** Reads and parses a spec; a syntax error names the file and its line and column. */
export async function readSpecFile(path: string): Promise<TopologySpec> {
  let text: string
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (e) {
    throw new NsnetError(`cannot read the spec ${path}: ${(e as Error).message}`, { code: 'ENOENT' })
  }
  return parseSpecText(text, path)
}

/** Parses a spec's text as the format its name says; `name` is used in errors (`-` means stdin). */
export async function parseSpecText(text: string, name: string): Promise<TopologySpec> {
  const where = name === '-' ? 'stdin' : name
  if (specFormat(name, text) === 'json') {
    try {
      return JSON.parse(text) as TopologySpec
    } catch (e) {
      throw new NsnetError(`the spec ${where} is not JSON: ${(e as Error).message}${jsonLine(text, (e as Error).message)}`, { code: 'EINVAL_ARGUMENT' })
    }
  }
  const { parseDocument } = await import('yaml')
  // One document, YAML 1.2 core schema (so `no` stays a string), duplicate keys refused.
  const doc = parseDocument(text, { uniqueKeys: true })
  const err = doc.errors[0]
  if (err) {
    const pos = err.linePos?.[0]
    // The parser's message ends in " at line L, column C:" and the lines around it.
    const [what, context] = err.message.split(/ at line \d+, column \d+:\n/)
    throw new NsnetError(
      `the spec ${where} is not valid YAML (${pos ? `line ${pos.line}, column ${pos.col}` : `offset ${err.pos[0]}`}): ${what}` +
        `${context?.trim() ? `\n${context.replace(/^\n+/, '').trimEnd()}` : ''}`,
      { code: 'EINVAL_ARGUMENT' },
    )
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) as TopologySpec
  } catch (e) {
    // an alias to no anchor, or aliases that would blow up
    throw new NsnetError(`the spec ${where} is not valid YAML: ${(e as Error).message}`, { code: 'EINVAL_ARGUMENT' })
  }
}

/** ` (line N)` for JSON.parse's "at position P" (Node 20 gives no line), or ''. */
function jsonLine(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message)
  if (!m || /line \d+/.test(message)) return ''
  const before = text.slice(0, Number(m[1]))
  return ` (line ${before.split('\n').length})`
}
