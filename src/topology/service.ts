// Entry point of the small programs a lab runs inside its namespaces (via `ip netns exec`):
//
//   service.js dns --listen ADDR [--port 53] --records JSON   serve A/AAAA from a table
//   service.js echo [--listen ADDR] [--tcp PORT] [--udp PORT]  TCP/UDP echo servers
//   service.js probe tcp|udp HOST PORT [--message M] [--timeout MS]
//   service.js reach HOST [--port 9] [--timeout MS]             reachability without ping
//   service.js resolve NAME                                     getaddrinfo, as libc sees it
//   service.js sink tcp|udp PORT / blast tcp|udp HOST PORT [--seconds S | --bytes N] [--rate BITS]   throughput
//
// Servers print one line `ready ...` once listening and run until killed; the others print
// one JSON line and exit 0 on success, 1 on failure.
import { lookup } from 'node:dns/promises'
import { startDnsServer } from './dns.js'
import { reach, startEchoServers, tcpEcho, udpEcho } from './sockets.js'
import { runBlast, runSink } from './throughput.js'

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

function num(v: string | undefined): number | undefined {
  return v === undefined ? undefined : Number(v)
}

function print(obj: unknown, ok: boolean): never {
  process.stdout.write(JSON.stringify(obj) + '\n')
  process.exit(ok ? 0 : 1)
}

async function main(): Promise<void> {
  const [cmd, ...args] = process.argv.slice(2)
  switch (cmd) {
    case 'dns': {
      const s = await startDnsServer({
        address: option(args, '--listen'),
        port: num(option(args, '--port')) ?? 53,
        records: JSON.parse(option(args, '--records') ?? '{}'),
        ttl: num(option(args, '--ttl')),
      })
      process.stdout.write(`ready dns ${s.address}:${s.port}\n`)
      return
    }
    case 'echo': {
      const s = await startEchoServers({ address: option(args, '--listen'), tcp: num(option(args, '--tcp')), udp: num(option(args, '--udp')) })
      process.stdout.write(`ready echo${s.tcpPort ? ` tcp:${s.tcpPort}` : ''}${s.udpPort ? ` udp:${s.udpPort}` : ''}\n`)
      return
    }
    case 'probe': {
      const [proto, host, port] = args
      const message = option(args, '--message') ?? 'nsnet echo'
      const timeout = num(option(args, '--timeout'))
      const r = proto === 'udp' ? await udpEcho(host!, Number(port), message, timeout) : await tcpEcho(host!, Number(port), message, timeout)
      print(r, r.ok)
      return
    }
    case 'sink': {
      await runSink(args[0] === 'udp' ? 'udp' : 'tcp', Number(args[1]), (l) => process.stdout.write(l + '\n'))
      return
    }
    case 'blast': {
      const [proto, host, port] = args
      await runBlast(
        proto === 'udp' ? 'udp' : 'tcp',
        host!,
        Number(port),
        { seconds: num(option(args, '--seconds')), bytes: num(option(args, '--bytes')), rate: num(option(args, '--rate')) },
        (l) => process.stdout.write(l + '\n'),
      )
      return process.exit(0)
    }
    case 'reach': {
      const r = await reach(args[0]!, { port: num(option(args, '--port')), timeoutMs: num(option(args, '--timeout')) })
      print(r, r.reachable)
      return
    }
    case 'resolve': {
      try {
        const all = await lookup(args[0]!, { all: true })
        print({ name: args[0], addresses: all.map((a) => a.address) }, true)
      } catch (e) {
        print({ name: args[0], addresses: [], error: (e as NodeJS.ErrnoException).code ?? String(e) }, false)
      }
      return
    }
    default:
      process.stderr.write(`usage: service.js dns|echo|probe|reach|resolve ...\n`)
      process.exit(2)
  }
}

// Killed by the lab when it comes down; exit quietly on SIGTERM.
process.on('SIGTERM', () => process.exit(0))
main().catch((e) => {
  process.stderr.write(`service: ${(e as Error).message}\n`)
  process.exit(1)
})
