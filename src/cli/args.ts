// Argument parsing for `nsnet`: node:util's parseArgs, strict, with every command's usage
// text beside its options so `nsnet CMD --help` and a usage error say the same thing.
import { parseArgs } from 'node:util'

/** A wrong command line: nsnet prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message)
  }
}

type OptionSpec = { readonly type: 'boolean' | 'string'; readonly short?: string; readonly help: string }

export interface Command {
  readonly name: string
  /** What the positionals are, for the usage line: `SPEC`, `[RUNID|NAME]`, `[--] COMMAND...`. */
  readonly args: string
  readonly summary: string
  /** More lines for `nsnet CMD --help`. */
  readonly details?: string
  readonly options: Readonly<Record<string, OptionSpec>>
  /** How many positionals it takes. */
  readonly positionals: readonly [min: number, max: number]
  /** Options stop at the first positional (the rest is another program's argv). */
  readonly passThrough?: boolean
  run(flags: Readonly<Record<string, string | boolean | undefined>>, positionals: readonly string[]): Promise<number>
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' }

/** `nsnet CMD --help`. */
export function commandHelp(c: Command): string {
  const opts = Object.entries({ ...c.options, help: HELP }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}`
    return `  ${flag.padEnd(24)} ${o.help}`
  })
  return `usage: nsnet ${c.name}${c.args ? ` ${c.args}` : ''}\n\n${c.summary}\n${c.details ? `\n${c.details}\n` : ''}\noptions:\n${opts.join('\n')}\n`
}

/** Parses one command's arguments; throws UsageError for unknown options or wrong counts. */
export function parseCommand(
  c: Command,
  argv: readonly string[],
): { flags: Record<string, string | boolean | undefined>; positionals: string[]; help: boolean } {
  let head = [...argv]
  let tail: string[] = []
  if (c.passThrough) {
    const stop = argv.findIndex((a) => a === '--' || !a.startsWith('-'))
    if (stop >= 0) {
      head = argv.slice(0, stop)
      tail = argv.slice(argv[stop] === '--' ? stop + 1 : stop)
    }
  }
  const options = Object.fromEntries(
    Object.entries({ ...c.options, help: HELP }).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}) }]),
  )
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: head, options, allowPositionals: !c.passThrough, strict: true })
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^Unknown option '(.*?)'.*$/s, 'unknown option $1'), c)
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>
  const positionals = [...parsed.positionals, ...tail]
  const help = flags.help === true
  if (!help) {
    const [min, max] = c.positionals
    if (positionals.length < min) throw new UsageError(`nsnet ${c.name} needs ${c.args}`, c)
    if (positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])}`, c)
  }
  return { flags, positionals, help }
}
