#!/usr/bin/env node
// The `nsnet` command: `nsnet --help` lists the commands, `nsnet CMD --help` explains one.
// Exit codes: 0 done, 1 a check failed or an operation failed, 2 usage error,
// 130/143 when `up` was interrupted by SIGINT/SIGTERM (and rolled back).
import { readFileSync } from 'node:fs'
import { commandHelp, parseCommand, UsageError } from './cli/args.js'
import { commands } from './cli/commands.js'
import { isNsnetError } from './netlink/errors.js'

function usage(): string {
  const width = Math.max(...commands.map((c) => `${c.name} ${c.args}`.length))
  return `usage: nsnet COMMAND [OPTIONS] [ARGS]    (nsnet COMMAND --help for one command)\n\n${commands
    .map((c) => `  nsnet ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary.split('\n')[0]}`)
    .join('\n')}\n\n  nsnet --version                 print the version\n`
}

/** The version in the package.json next to this module's directory (src/ or dist/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === '--version' || name === '-V') {
    process.stdout.write(`nsnet ${version()}\n`)
    return 0
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const c = commands.find((x) => x.name === rest[0])
    process.stdout.write(c ? commandHelp(c) : usage())
    return 0
  }
  if (name === undefined) throw new UsageError('a command is needed')
  const command = commands.find((c) => c.name === name)
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`)
  const { flags, positionals, help } = parseCommand(command, rest)
  if (help) {
    process.stdout.write(commandHelp(command))
    return 0
  }
  return command.run(flags, positionals)
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`nsnet: ${e.message}\n\n${e.command ? commandHelp(e.command) : usage()}`)
      process.exit(2)
    }
    const problems = (e as { problems?: Array<{ path: string; message: string }> }).problems
    if (problems && problems.length > 1) {
      process.stderr.write(`nsnet: the spec has ${problems.length} problems:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`)
    } else {
      process.stderr.write(`nsnet: ${isNsnetError(e) ? e.message : ((e as Error)?.message ?? e)}\n`)
    }
    process.exit(1)
  },
)
