// Entry point of a sandbox's supervisor, started by sandbox.run() as
//   unshare --user --map-root-user --net --mount -- [setpriv --pdeathsig HUP --] node inner.js
// Inside the fresh namespaces it makes the private mounts, brings lo up, runs the command
// (argv in $NSNET_SANDBOX_CMD) and, when that ends, SIGKILLs every process still living
// in the sandbox's user namespace, so nothing outlives it. Exits with the command's code.
import { spawn } from 'node:child_process'
import { readdirSync, readlinkSync } from 'node:fs'
import { constants } from 'node:os'
import { setupSandboxMounts } from './mounts.js'

const PREFIX = 'nsnet sandbox'

function userNs(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`)
  } catch {
    return undefined
  }
}

/** SIGKILLs every other process in our user namespace; repeats until none is left. */
function killSandboxProcesses(): number {
  const mine = userNs('self')
  if (!mine) return 0
  let killed = 0
  for (let round = 0; round < 50; round++) {
    let found = 0
    for (const e of readdirSync('/proc')) {
      const pid = Number(e)
      if (!Number.isInteger(pid) || pid === process.pid || pid <= 1) continue
      if (userNs(pid) !== mine) continue
      try {
        process.kill(pid, 'SIGKILL')
        found++
      } catch {
        /* gone */
      }
    }
    if (!found) break
    killed += found
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
  }
  return killed
}

/** `ip link set lo up` in the sandbox's fresh network namespace. */
async function bringLoopbackUp(): Promise<void> {
  const { Rtnl } = await import('../rtnl.js')
  const rt = await Rtnl.open({ namespace: 'sandbox' })
  try {
    await rt.links.set('lo', { up: true })
  } finally {
    await rt.close()
  }
}

async function main(): Promise<void> {
  const argv = JSON.parse(process.env.NSNET_SANDBOX_CMD ?? '[]') as string[]
  if (!argv.length) {
    process.stderr.write(`${PREFIX}: no command\n`)
    process.exit(2)
  }
  try {
    setupSandboxMounts()
  } catch (e) {
    process.stderr.write(`${PREFIX}: setting up the sandbox's mounts failed: ${(e as Error).message}\n`)
    process.exit(1)
  }
  try {
    await bringLoopbackUp()
  } catch (e) {
    process.stderr.write(`${PREFIX}: cannot bring lo up: ${(e as Error).message}\n`)
    process.exit(1)
  }
  const env: NodeJS.ProcessEnv = { ...process.env, NSNET_SANDBOX: '1' }
  delete env.NSNET_SANDBOX_CMD
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env })
  let done = false
  const finish = (code: number): void => {
    if (done) return
    done = true
    killSandboxProcesses()
    process.exit(code)
  }
  child.on('error', (e) => {
    process.stderr.write(`${PREFIX}: cannot run ${argv[0]}: ${e.message}\n`)
    finish(127)
  })
  child.on('exit', (code, sig) => finish(code ?? 128 + (sig ? constants.signals[sig] : 0)))
  // A terminal's Ctrl-C reaches the command directly (same process group); a SIGINT sent
  // to us alone (no terminal) is passed on. SIGTERM is passed on; SIGHUP means our parent
  // died (pdeathsig): end everything.
  process.on('SIGINT', () => {
    if (!process.stdin.isTTY) child.kill('SIGINT')
  })
  process.on('SIGTERM', () => child.kill('SIGTERM'))
  process.on('SIGHUP', () => finish(129))
}

void main()
