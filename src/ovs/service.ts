// A private Open vSwitch: ovsdb-server and ovs-vswitchd with their own run/log/db/sysconf
// directory, so a lab never touches (or needs) the system's OVS service. What ovs-ctl and
// ovs-sandbox do by shell, done step by step with every pid kept for the stop.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NsnetError } from '../netlink/errors.js'
import { netns } from '../netns/index.js'
import { Rtnl } from '../rtnl.js'
import { processStart } from '../topology/marker.js'
import { sleep } from '../util/poll.js'

export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'
const PROGRAMS = ['ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd'] as const
const SEARCH = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin', '/bin']
/** sun_path holds 108 bytes, the terminating NUL included. */
const SUN_PATH_MAX = 107
export const INSTALL_HINT = 'install the openvswitch-switch package (apt-get install openvswitch-switch); its system service need not run'

export interface OvsDaemon {
  readonly name: 'ovsdb-server' | 'ovs-vswitchd'
  readonly pid: number
  /** Field 22 of /proc/PID/stat, so a reused pid is never signalled. */
  readonly start: string
}

export interface ServiceOptions {
  /** Directory for the database, sockets, pidfiles and logs; a fresh temp dir by default (removed on stop). */
  readonly dir?: string
  /** Named namespace (under /run/netns) to run ovs-vswitchd in: the one that holds the ports. Default: this one. */
  readonly namespace?: string
  /** Start ovs-vswitchd too (default true); without it only the database runs. */
  readonly vswitchd?: boolean
  /** `other_config` written into Open_vSwitch before vswitchd starts (e.g. userspace-tso-enable). */
  readonly otherConfig?: Readonly<Record<string, string>>
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  /** Called with each daemon as soon as its pid is known (before it is ready), to record it for reap. */
  readonly onDaemon?: (d: OvsDaemon) => void
  /** Called with the directory it made (not when `dir` was given) before anything runs there, to record it for reap. */
  readonly onDir?: (dir: string) => void
}

/** Where the binaries are, or an EUNSUPPORTED error saying what is missing. */
export function findOvsPrograms(): Record<(typeof PROGRAMS)[number], string> {
  const out: Record<string, string> = {}
  const missing: string[] = []
  for (const p of PROGRAMS) {
    const found = SEARCH.map((d) => join(d, p)).find((f) => existsSync(f))
    if (found) out[p] = found
    else missing.push(p)
  }
  if (!existsSync(VSWITCH_SCHEMA)) missing.push(VSWITCH_SCHEMA)
  if (missing.length) {
    throw new NsnetError(`Open vSwitch is not installed (missing ${missing.join(', ')})`, {
      code: 'EUNSUPPORTED',
      operation: 'ovs.start',
      hint: INSTALL_HINT,
    })
  }
  return out as Record<(typeof PROGRAMS)[number], string>
}

/** Whether the OVS programs are installed (for tests that skip without them). */
export function ovsInstalled(): boolean {
  try {
    findOvsPrograms()
    return true
  } catch {
    return false
  }
}

/** A running private service: its directory, database socket and daemons. */
export class OvsService {
  private stopped = false

  constructor(
    readonly dir: string,
    readonly namespace: string | undefined,
    readonly daemons: OvsDaemon[],
    private readonly ownsDir: boolean,
  ) {}

  /** The database socket (`unix:` endpoint without the prefix). */
  get dbSocket(): string {
    return join(this.dir, 'db.sock')
  }

  /** The last lines of ovs-vswitchd's log, for error hints. */
  vswitchdLog(lines = 5, about?: string): string {
    return tailOf(join(this.dir, 'ovs-vswitchd.log'), lines, about)
  }

  /** Whether ovs-vswitchd (when started) still runs. */
  get vswitchdAlive(): boolean {
    const d = this.daemons.find((x) => x.name === 'ovs-vswitchd')
    return d !== undefined && processStart(d.pid) === d.start && !isZombie(d.pid)
  }

  /**
   * Stops the daemons by pid (SIGTERM, SIGKILL after `graceMs`), deletes the tap devices a
   * netdev datapath leaves behind when vswitchd could not remove them (`taps`, in vswitchd's
   * namespace; only links of kind tun), and removes the directory if it made it.
   */
  async stop(opts: { graceMs?: number; taps?: readonly string[] } = {}): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    // vswitchd first: it may still be writing to the database.
    for (const d of [...this.daemons].reverse()) await stopDaemon(d, opts.graceMs ?? 5000)
    try {
      if (opts.taps?.length) await deleteTaps(this.namespace, ['ovs-netdev', ...opts.taps])
    } finally {
      if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true })
    }
  }
}

/**
 * Starts a private OVS: `ovsdb-tool create`, `ovsdb-server --detach`, an initialised
 * Open_vSwitch row (`ovs-vsctl --no-wait init`), then `ovs-vswitchd --detach`, inside
 * `namespace` when given (`ip netns exec NS ovs-vswitchd`). Whatever was started is
 * stopped again when a later step fails or the signal aborts.
 * `init(socket)` runs after the database is up and before vswitchd starts.
 */
export async function startService(opts: ServiceOptions, init: (dbSocket: string) => Promise<void>): Promise<OvsService> {
  const progs = findOvsPrograms()
  const ownsDir = opts.dir === undefined
  const dir = opts.dir ?? mkdtempSync(join(tmpdir().length < 40 ? tmpdir() : '/tmp', 'nsnet-ovs-'))
  // ovs-vswitchd's control socket ovs-vswitchd.PID.ctl is the longest name it makes there.
  const longest = join(dir, 'ovs-vswitchd.4194304.ctl')
  if (Buffer.byteLength(longest) > SUN_PATH_MAX) {
    if (ownsDir) rmSync(dir, { recursive: true, force: true })
    throw new NsnetError(`directory ${dir} is too long for unix sockets (${Buffer.byteLength(longest)} > ${SUN_PATH_MAX} bytes for ${longest})`, {
      code: 'EINVAL_ARGUMENT',
      operation: 'ovs.start',
      object: `dir ${dir}`,
      hint: 'pick a shorter directory, e.g. under /tmp',
    })
  }
  if (ownsDir) opts.onDir?.(dir)
  const timeoutMs = opts.timeoutMs ?? 30_000
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir, OVS_PKGDATADIR: '/usr/share/openvswitch' }
  const daemons: OvsDaemon[] = []
  const service = new OvsService(dir, opts.namespace, daemons, ownsDir)
  const run = (argv: string[], what: string) => runTool(argv, env, timeoutMs, opts.signal, what, dir)
  try {
    const db = join(dir, 'conf.db')
    if (!existsSync(db)) await run([progs['ovsdb-tool'], 'create', db, VSWITCH_SCHEMA], 'ovsdb-tool create')
    await run(
      [
        progs['ovsdb-server'],
        '--detach',
        '--no-chdir',
        `--pidfile=${join(dir, 'ovsdb-server.pid')}`,
        `--log-file=${join(dir, 'ovsdb-server.log')}`,
        '-vconsole:off',
        `--remote=punix:${join(dir, 'db.sock')}`,
        `--unixctl=${join(dir, 'ovsdb-server.ctl')}`,
        db,
      ],
      'ovsdb-server',
    )
    addDaemon(daemons, 'ovsdb-server', join(dir, 'ovsdb-server.pid'), opts.onDaemon)
    await init(join(dir, 'db.sock'))
    if (opts.vswitchd !== false) {
      const argv = [
        progs['ovs-vswitchd'],
        '--detach',
        '--no-chdir',
        `--pidfile=${join(dir, 'ovs-vswitchd.pid')}`,
        `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
        '-vconsole:off',
        `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`,
        `unix:${join(dir, 'db.sock')}`,
      ]
      await run(opts.namespace ? ['ip', 'netns', 'exec', opts.namespace, ...argv] : argv, 'ovs-vswitchd')
      addDaemon(daemons, 'ovs-vswitchd', join(dir, 'ovs-vswitchd.pid'), opts.onDaemon)
    }
    return service
  } catch (e) {
    // A --detach that failed half-way may still have written its pidfile.
    for (const [name, file] of [
      ['ovsdb-server', 'ovsdb-server.pid'],
      ['ovs-vswitchd', 'ovs-vswitchd.pid'],
    ] as const) {
      if (!daemons.some((d) => d.name === name)) {
        try {
          addDaemon(daemons, name, join(dir, file))
        } catch {
          /* never started */
        }
      }
    }
    const log = tailOf(join(dir, 'ovs-vswitchd.log'), 3) || tailOf(join(dir, 'ovsdb-server.log'), 3)
    await service.stop()
    if (e instanceof NsnetError && log && !e.hint)
      throw new NsnetError(e.summary, { code: e.code, operation: e.operation, object: e.object, hint: `log: ${log}` })
    throw e
  }
}

/** Deletes the named links that are taps (kind tun) in `namespace` (or here). */
export async function deleteTaps(namespace: string | undefined, names: readonly string[]): Promise<string[]> {
  const rt = namespace ? await netns.open(namespace) : await Rtnl.open()
  try {
    const taps = (await rt.links.list({ kind: 'tun' })).filter((l) => names.includes(l.ifname))
    for (const l of taps) await rt.links.delete(l.ifname).catch(() => undefined)
    return taps.map((l) => l.ifname)
  } finally {
    await rt.close()
  }
}

function addDaemon(daemons: OvsDaemon[], name: OvsDaemon['name'], pidfile: string, onDaemon?: (d: OvsDaemon) => void): void {
  const pid = Number(readFileSync(pidfile, 'utf8').trim())
  const start = processStart(pid)
  if (!Number.isInteger(pid) || pid <= 0 || start === undefined) {
    throw new NsnetError(`${name} wrote pid ${pid} to ${pidfile} but no such process runs`, { code: 'EOVSDB', operation: 'ovs.start', object: name })
  }
  const d = Object.freeze({ name, pid, start })
  daemons.push(d)
  onDaemon?.(d)
}

/** SIGTERM, then SIGKILL after graceMs; only when the pid still is the process that was started. */
export async function stopDaemon(d: OvsDaemon, graceMs = 5000): Promise<void> {
  const same = () => processStart(d.pid) === d.start && !isZombie(d.pid)
  if (!same()) return
  try {
    process.kill(d.pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + graceMs
  while (same()) {
    if (Date.now() > deadline) {
      try {
        process.kill(d.pid, 'SIGKILL')
      } catch {
        return
      }
      const hard = Date.now() + 5000
      while (same() && Date.now() < hard) await sleep(20, undefined, {})
      return
    }
    await sleep(20, undefined, {})
  }
}

function isZombie(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) === 'Z'
  } catch {
    return false
  }
}

/**
 * Runs one setup step. An abort does not kill it: a `--detach` parent killed half-way leaves
 * a daemon that may not have written its pidfile yet. The step finishes (they take
 * milliseconds), then the abort is honoured and the caller stops what runs.
 */
function runTool(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal | undefined, what: string, dir: string): Promise<void> {
  const aborted = () => new NsnetError('aborted by the caller', { code: 'EABORTED', operation: 'ovs.start', object: what })
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted())
    execFile(argv[0]!, argv.slice(1), { env, timeout: timeoutMs, cwd: dir }, (err, _stdout, stderr) => {
      if (signal?.aborted) return reject(aborted())
      if (!err) return resolve()
      const e = err as NodeJS.ErrnoException & { killed?: boolean }
      reject(
        new NsnetError(`${what} failed: ${(stderr || e.message).trim().split('\n').slice(-3).join(' | ')}`, {
          code: e.killed ? 'ETIMEDOUT' : 'EOVSDB',
          operation: 'ovs.start',
          object: what,
        }),
      )
    })
  })
}

function tailOf(file: string, lines: number, about?: string): string {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n')
    return (about ? all.filter((l) => l.includes(about)) : all).slice(-lines).join(' | ')
  } catch {
    return ''
  }
}
