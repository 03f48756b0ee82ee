#!/usr/bin/env node
// nsnet hermetic runner: runs the test suite (or the benchmarks, or any command)
// inside a throwaway network + mount namespace, so nothing a test does can reach
// the host's interfaces, routes, firewall, sysctls, /run/netns or /etc/netns.
//
//   node test/run-hermetic.mjs [vitest args...]      -> vitest run [args...]
//   node test/run-hermetic.mjs --bench [args...]     -> tsx bench/run.ts [args...]
//   node test/run-hermetic.mjs --exec CMD [args...]  -> CMD [args...]
//
// How it works
//   outer (this process, on the host)
//     spawns  unshare --net --mount --propagation private [--user --map-root-user]
//               -- setpriv --pdeathsig HUP -- node run-hermetic.mjs   (NSNET_HERMETIC_STAGE=inner)
//     and forwards SIGINT/SIGTERM/SIGQUIT/SIGHUP to it; exits with its exit code.
//   inner (the "supervisor", already inside the new namespaces)
//     prepares the mounts (below), brings lo up, spawns the command with
//     NSNET_HERMETIC=1, forwards signals, and when the command ends -- or when the
//     outer runner dies, even by SIGKILL (pdeathsig, plus a ppid poll as a fallback) --
//     SIGKILLs every process still living in its namespaces, so the namespaces
//     (and every named netns created under the private /run/netns) die with it.
//   We do not unshare the PID namespace: process.pid and /proc/<pid> must keep
//   meaning the same thing for the library's netns code, and /proc/1 stays the
//   host's init (test/hermetic.test.ts uses that).
//
// /run/netns, /run/nsnet and /etc/netns -- the choice
//   Each gets a fresh tmpfs, mounted only inside our private mount namespace.
//   A mount point must exist, and creating it with mkdir -- even from inside the
//   namespace -- would create it on the host's filesystem. So the parents (/run and
//   /etc) always get an overlayfs whose lower layer is the parent itself and whose
//   upper layer lives on a private tmpfs. The parent then looks exactly the same
//   inside the namespace, but the mkdir lands in the tmpfs, and so does any other
//   write a test or tool makes under /run or /etc (e.g. /run/xtables.lock, util-linux's
//   /run/mount/utab, topology markers). This holds whether or not /run/netns exists
//   on the host (an earlier version overlaid only when it was missing, and then let
//   /run/nsnet through). Mounts that existed below the parent (/run/user/N, /run/lock,
//   /run/netns itself, a bind-mounted /etc/resolv.conf, ...) are hidden by the overlay,
//   so they are recursively bound back on top of it before our tmpfs mounts.
//   The private tmpfs (the "stage") is mounted over /sys/kernel, a directory that
//   always exists and that the fresh sysfs mounted over /sys afterwards hides, so
//   not even a temporary directory is created on the host.
//   Every mount(8) call uses -n: without it, libmount creates /run/mount/ on the host
//   for its utab before our overlay is in place.
//
// /sys gets a fresh sysfs so /sys/class/net shows this namespace's links.

import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const SELF = fileURLToPath(import.meta.url)
const ROOT = path.resolve(path.dirname(SELF), '..')
const PREFIX = 'nsnet hermetic runner'

// Environment used between outer and inner; removed before the command runs.
const ENV_STAGE = 'NSNET_HERMETIC_STAGE'
const ENV_CMD = 'NSNET_HERMETIC_CMD'
const ENV_USERNS = 'NSNET_HERMETIC_USERNS'
// Environment the command sees.
//   NSNET_HERMETIC=1            set for the command
//   NSNET_HERMETIC_HOST_NETNS   inode of the host's network namespace (for the hermetic test)
//   NSNET_HERMETIC_HOST_PID     pid of the outer runner, which lives in the host's namespaces
//   NSNET_HERMETIC_START        JSON snapshot of {links, runNetns, etcNetns} right before the command starts
//   NSNET_HERMETIC_DEBUG=1      (optional, user-set) explain mounts and leftover processes on stderr
const DEBUG = process.env.NSNET_HERMETIC_DEBUG === '1'

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP']
const signo = (sig) => os.constants.signals[sig] ?? 15

function debug(msg) {
  if (DEBUG) process.stderr.write(`${PREFIX}: ${msg}\n`)
}

function die(msg, code = 1) {
  process.stderr.write(`${PREFIX}: ${msg}\n`)
  process.exit(code)
}

// ---------------------------------------------------------------------------------------------
// outer: on the host
// ---------------------------------------------------------------------------------------------

function localBin(name) {
  const p = path.join(ROOT, 'node_modules', '.bin', name)
  return fs.existsSync(p) ? [p] : ['npx', '--no-install', name]
}

function parseCommand(argv) {
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(
      'usage: node test/run-hermetic.mjs [vitest args...]\n' +
        '       node test/run-hermetic.mjs --bench [bench args...]\n' +
        '       node test/run-hermetic.mjs --exec CMD [args...]\n' +
        'Runs the command in a throwaway network + mount namespace (NSNET_HERMETIC=1).\n',
    )
    process.exit(0)
  }
  if (argv[0] === '--bench') return [...localBin('tsx'), 'bench/run.ts', ...argv.slice(1)]
  if (argv[0] === '--exec') {
    if (argv.length < 2) die('--exec needs a command')
    return argv.slice(1)
  }
  return [...localBin('vitest'), 'run', ...argv]
}

function probe(args) {
  const r = spawnSync('unshare', [...args, '--', 'true'], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
  if (r.error) return { ok: false, missing: r.error.code === 'ENOENT', err: String(r.error.message) }
  return { ok: r.status === 0, err: (r.stderr || '').trim() }
}

function readProc(p) {
  try {
    return fs.readFileSync(p, 'utf8').trim()
  } catch {
    return null
  }
}

function explainFailure(attempts) {
  const lines = [`cannot create a throwaway network namespace, so the tests will not run (they never run on the host).`]
  for (const a of attempts) lines.push(`  tried: unshare ${a.args.join(' ')}  ->  ${a.err || 'failed'}`)
  const uid = process.getuid()
  lines.push(`  running as uid ${uid}${uid === 0 ? ' (root)' : ''}`)
  const status = readProc('/proc/self/status') || ''
  const capEff = /CapEff:\s*([0-9a-f]+)/.exec(status)?.[1]
  if (capEff && (BigInt('0x' + capEff) & (1n << 21n)) === 0n && uid === 0)
    lines.push('  - root without CAP_SYS_ADMIN (a restricted container?): unshare of net/mount namespaces needs it.')
  const clone = readProc('/proc/sys/kernel/unprivileged_userns_clone')
  if (clone === '0')
    lines.push(
      '  - /proc/sys/kernel/unprivileged_userns_clone = 0: unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone=1 enables them).',
    )
  const maxUser = readProc('/proc/sys/user/max_user_namespaces')
  if (maxUser === '0') lines.push('  - /proc/sys/user/max_user_namespaces = 0: user namespaces are disabled.')
  for (const k of ['max_net_namespaces', 'max_mnt_namespaces']) {
    if (readProc(`/proc/sys/user/${k}`) === '0') lines.push(`  - /proc/sys/user/${k} = 0: these namespaces are disabled.`)
  }
  const aa = readProc('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')
  if (aa === '1')
    lines.push(
      '  - /proc/sys/kernel/apparmor_restrict_unprivileged_userns = 1: AppArmor (Ubuntu 23.10+) denies unprivileged user namespaces to unconfined programs; run as root (sudo npm test) or give unshare an AppArmor profile with "userns,".',
    )
  if (fs.existsSync('/.dockerenv') || fs.existsSync('/run/.containerenv'))
    lines.push(
      '  - this looks like a container: run it with --privileged, or --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined.',
    )
  if (uid !== 0) lines.push('  - or simply run as root: sudo npm test')
  lines.push(`  (kernel ${os.release()}; requires util-linux unshare, iproute2 ip, and mount)`)
  die(lines.join('\n'))
}

function outer() {
  const command = parseCommand(process.argv.slice(2))

  // Pick how to enter the namespaces.
  const base = ['--net', '--mount', '--propagation', 'private']
  const userns = ['--user', '--map-root-user', ...base]
  const candidates = process.getuid() === 0 ? [base, userns] : [userns]
  const attempts = []
  let chosen = null
  for (const args of candidates) {
    const r = probe(args)
    if (r.missing) die('`unshare` was not found: install util-linux.')
    if (r.ok) {
      chosen = args
      break
    }
    attempts.push({ args, err: r.err })
  }
  if (!chosen) explainFailure(attempts)

  // setpriv --pdeathsig makes the kernel tell the supervisor when we die, even by SIGKILL.
  const sp = spawnSync('setpriv', ['--pdeathsig', 'HUP', '--', 'true'], { stdio: 'ignore' })
  const deathSig = sp.status === 0 ? ['setpriv', '--pdeathsig', 'HUP', '--'] : []

  let hostNetns = ''
  try {
    hostNetns = String(fs.statSync('/proc/self/ns/net').ino)
  } catch {}

  const child = spawn('unshare', [...chosen, '--', ...deathSig, process.execPath, SELF], {
    stdio: 'inherit',
    // Own session: a terminal's Ctrl-C reaches only us, and we forward it exactly once.
    detached: true,
    env: {
      ...process.env,
      [ENV_STAGE]: 'inner',
      [ENV_CMD]: JSON.stringify(command),
      [ENV_USERNS]: chosen.includes('--user') ? '1' : '0',
      NSNET_HERMETIC_HOST_NETNS: hostNetns,
      // This runner stays in the host's namespaces: /proc/<pid>/{ns,root,net} is the host's view
      // (PID 1 can be unreadable, e.g. a non-dumpable init in a VM sandbox).
      NSNET_HERMETIC_HOST_PID: String(process.pid),
    },
  })

  for (const sig of SIGNALS) {
    process.on(sig, () => {
      try {
        child.kill(sig)
      } catch {}
    })
  }
  child.on('error', (e) => die(`could not start unshare: ${e.message}`))
  child.on('exit', (code, sig) => process.exit(code ?? 128 + signo(sig)))
}

// ---------------------------------------------------------------------------------------------
// inner: the supervisor, inside the new namespaces
// ---------------------------------------------------------------------------------------------

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (r.error) {
    const e = new Error(r.error.code === 'ENOENT' ? `\`${cmd}\` not found` : r.error.message)
    e.code = r.error.code
    throw e
  }
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || '').trim() || `exit ${r.status}`}`)
  debug(`${cmd} ${args.join(' ')}`)
  return r.stdout
}

const mount = (...args) => sh('mount', ['-n', ...args])

function decodeMountPath(s) {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)))
}

function mountPoints() {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => decodeMountPath(l.split(' ')[4]))
}

function isRealDir(p) {
  try {
    return fs.lstatSync(p).isDirectory()
  } catch {
    return false
  }
}

function lexists(p) {
  try {
    fs.lstatSync(p)
    return true
  } catch {
    return false
  }
}

function setupMounts(userns) {
  let stage = null
  const ensureStage = () => {
    if (stage) return stage
    stage = isRealDir('/sys/kernel') ? '/sys/kernel' : '/sys'
    mount('-t', 'tmpfs', '-o', 'mode=0700', 'nsnet-stage', stage)
    return stage
  }

  // Overlay `dir` with itself as the lower layer and a private tmpfs as the upper layer.
  const overlay = (dir) => {
    const s = ensureStage()
    const key = dir.replace(/[^A-Za-z0-9]/g, '_')
    const upper = `${s}/${key}-upper`
    const work = `${s}/${key}-work`
    fs.mkdirSync(upper)
    fs.mkdirSync(work)
    // Mounts below `dir` (only the topmost ones; --rbind carries their children).
    const subs = mountPoints()
      .filter((m) => m.startsWith(dir + '/'))
      .filter((m, _, all) => !all.some((o) => o !== m && m.startsWith(o + '/')))
    const uniqSubs = [...new Set(subs)]
    let orig = null
    if (uniqSubs.length) {
      orig = `${s}/${key}-orig`
      fs.mkdirSync(orig)
      mount('--rbind', dir, orig)
    }
    if (/[,:\\]/.test(dir)) throw new Error(`cannot overlay ${dir}: unusual characters in path`)
    const opts = `lowerdir=${dir},upperdir=${upper},workdir=${work}`
    try {
      mount('-t', 'overlay', '-o', userns ? `${opts},userxattr` : opts, `nsnet-overlay`, dir)
    } catch (e) {
      if (!userns) throw e
      mount('-t', 'overlay', '-o', opts, `nsnet-overlay`, dir)
    }
    for (const m of uniqSubs) mount('--rbind', orig + m.slice(dir.length), m)
  }

  // /run and /etc are always overlaid, even where /run/netns already exists on the host:
  // then every write a test or tool makes below them (/run/nsnet markers, /run/xtables.lock,
  // a netns file made after someone removed the host's /run/netns) stays in our tmpfs.
  const done = new Set()
  for (const parent of ['/run', '/var/run', '/etc']) {
    let real
    try {
      real = fs.realpathSync(parent)
    } catch {
      continue // e.g. no /var/run at all
    }
    // /var/run is normally a symlink to /run: already handled.
    if (done.has(real)) continue
    done.add(real)
    overlay(real)
    for (const name of real === '/etc' ? ['netns'] : ['netns', 'nsnet']) {
      const target = `${real}/${name}`
      if (!isRealDir(target)) {
        if (lexists(target)) fs.rmSync(target, { force: true }) // a stray file/symlink: whiteout in the upper layer only
        fs.mkdirSync(target, { mode: 0o755 })
      }
      mount('-t', 'tmpfs', '-o', 'mode=0755', `nsnet-${path.basename(real)}-${name}`, target)
    }
  }

  mount('-t', 'sysfs', 'nsnet-sysfs', '/sys')
  sh('ip', ['link', 'set', 'lo', 'up'])
}

function readdirOr(p) {
  try {
    return fs.readdirSync(p).sort()
  } catch {
    return []
  }
}

function nsId(pid, kind) {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${kind}`)
  } catch {
    return null
  }
}

function procStat(pid) {
  const s = readProc(`/proc/${pid}/stat`)
  if (!s) return null
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  return { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]) }
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

// SIGKILL every process that lives in our mount or network namespace, in a named netns
// created under our private /run/netns, in the command's process group, or that descends
// from any of those. Returns how many were killed.
function killAll(cmdPid) {
  const self = process.pid
  const parent = procStat(self)?.ppid
  const mnt = nsId('self', 'mnt')
  const nets = new Set([nsId('self', 'net')].filter(Boolean))
  for (const e of readdirOr('/run/netns')) {
    try {
      nets.add(`net:[${fs.statSync(`/run/netns/${e}`).ino}]`)
    } catch {}
  }
  let killed = 0
  for (let round = 0; round < 50; round++) {
    const procs = new Map()
    for (const e of readdirOr('/proc')) {
      if (!/^\d+$/.test(e)) continue
      const pid = Number(e)
      if (pid === self || pid === 1 || pid === parent) continue
      const st = procStat(pid)
      if (st && st.state !== 'Z' && st.state !== 'X') procs.set(pid, st)
    }
    const victims = new Set()
    for (const [pid, st] of procs) {
      if (st.ppid === self || (cmdPid && st.pgrp === cmdPid)) victims.add(pid)
      else if ((mnt && nsId(pid, 'mnt') === mnt) || nets.has(nsId(pid, 'net'))) victims.add(pid)
    }
    // descendants of victims
    for (let grew = true; grew; ) {
      grew = false
      for (const [pid, st] of procs) {
        if (!victims.has(pid) && victims.has(st.ppid)) {
          victims.add(pid)
          grew = true
        }
      }
    }
    if (victims.size === 0) break
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL')
        killed++
        debug(`killed leftover pid ${pid} (${readProc(`/proc/${pid}/comm`) ?? '?'})`)
      } catch {}
    }
    sleepMs(20)
  }
  return killed
}

function inner() {
  const command = JSON.parse(process.env[ENV_CMD] || '[]')
  const userns = process.env[ENV_USERNS] === '1'
  const origPpid = procStat(process.pid)?.ppid

  try {
    setupMounts(userns)
  } catch (e) {
    die(`setting up the throwaway namespace failed: ${e.message}` + (e.code === 'ENOENT' ? ' (install iproute2 / util-linux)' : ''))
  }

  const env = { ...process.env }
  delete env[ENV_STAGE]
  delete env[ENV_CMD]
  delete env[ENV_USERNS]
  env.NSNET_HERMETIC = '1'
  env.NSNET_HERMETIC_START = JSON.stringify({
    links: readdirOr('/sys/class/net'),
    runNetns: readdirOr('/run/netns'),
    etcNetns: readdirOr('/etc/netns'),
  })

  const child = spawn(command[0], command.slice(1), { stdio: 'inherit', detached: true, env, cwd: process.cwd() })
  let finished = false

  const finish = (code) => {
    if (finished) return
    finished = true
    const n = killAll(child.pid)
    if (n) debug(`killed ${n} leftover process(es)`)
    process.exit(code)
  }

  child.on('error', (e) => {
    process.stderr.write(`${PREFIX}: could not start ${command[0]}: ${e.message}\n`)
    finish(127)
  })
  child.on('exit', (code, sig) => finish(code ?? 128 + signo(sig)))

  // Signals: the first SIGINT/SIGTERM/SIGQUIT is forwarded (a burst of duplicates within
  // 500 ms counts as one); a later one, or 10 s without the command exiting, kills everything.
  // SIGHUP means the outer runner is gone (pdeathsig) or the terminal hung up: kill everything.
  let firstSignalAt = 0
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGQUIT']) {
    process.on(sig, () => {
      const now = Date.now()
      if (!firstSignalAt) {
        firstSignalAt = now
        try {
          child.kill(sig)
        } catch {}
        setTimeout(() => finish(128 + signo(sig)), 10_000).unref()
      } else if (now - firstSignalAt > 500) {
        finish(128 + signo(sig))
      }
    })
  }
  process.on('SIGHUP', () => finish(129))
  // Fallback when setpriv --pdeathsig is unavailable: notice being orphaned.
  setInterval(() => {
    const pp = procStat(process.pid)?.ppid
    if (pp !== undefined && pp !== origPpid) finish(129)
  }, 500).unref()
}

// Dispatch last, so every top-level const above is initialised.
if (process.env[ENV_STAGE] === 'inner') inner()
else outer()
