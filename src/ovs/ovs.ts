// The ovs-vsctl verbs as OVSDB transactions of our own: each write is one transaction
// (named uuids, `mutate` on Open_vSwitch.bridges / Bridge.ports, `next_cfg += 1` and a
// `select` of it), then waits until ovs-vswitchd applied it: cur_cfg >= next_cfg AND every
// new Interface has an ofport >= 1 (cur_cfg also advances when a bridge failed).
import { invalidArgument, NsnetError } from '../netlink/errors.js'
import { type Operation, type OperationResult, OvsdbClient, type OvsdbMonitor, type Row, SYSTEM_DB_SOCKET } from './client.js'
import { type Atom, type Datum, map, namedUuid, optional, set, uuid, type WireValue } from './datum.js'
import { ServiceMarker } from './marker.js'
import { checksumOffPeer, type OffloadChange } from './offload.js'
import { type OvsService, type ServiceOptions, startService } from './service.js'
import { type OvsShow, show } from './show.js'

const DB = 'Open_vSwitch'
const IFNAMSIZ = 16
export type PortType = 'system' | 'internal' | 'patch' | 'vxlan' | 'tap'
const PORT_TYPES: readonly PortType[] = ['system', 'internal', 'patch', 'vxlan', 'tap']

/** Every read first makes one round trip (so it sees every earlier commit); these bound it. */
export interface ReadOptions {
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

export interface WriteOptions {
  /** How long to wait for ovs-vswitchd to apply the change, ms (default the connection's, 15000). */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  /** Do not wait for ovs-vswitchd (`ovs-vsctl --no-wait`). */
  readonly noWait?: boolean
}

export interface AddBridgeOptions extends WriteOptions {
  /** `netdev` (userspace) by default: this kernel family often lacks the openvswitch datapath. */
  readonly datapathType?: 'netdev' | 'system'
  readonly failMode?: 'standalone' | 'secure'
  /** `--may-exist`: an existing bridge of that name is fine. */
  readonly mayExist?: boolean
  readonly otherConfig?: Readonly<Record<string, string>>
  readonly externalIds?: Readonly<Record<string, string>>
}

export interface AddPortOptions extends WriteOptions {
  /** Interface type; `system` (a netdev opened by name) by default. */
  readonly type?: PortType
  /** Access VLAN (`tag=N`), 0..4095. */
  readonly tag?: number
  readonly trunks?: readonly number[]
  /** Interface options (`options:peer=...`, `options:remote_ip=...`). */
  readonly options?: Readonly<Record<string, string>>
  /** `--may-exist`: a port of that name on this bridge is fine. */
  readonly mayExist?: boolean
  readonly otherConfig?: Readonly<Record<string, string>>
  readonly externalIds?: Readonly<Record<string, string>>
  /**
   * `auto` (default): on a netdev bridge whose vswitchd runs without userspace TSO, turn TX
   * checksum offload off on the veth's peer so TCP works across it (see offload.ts); `keep`
   * changes nothing.
   */
  readonly checksumOffload?: 'auto' | 'keep'
}

/** What addPort did besides adding the port. */
export interface AddPortResult {
  /** The veth peer whose TX checksum offload went off, when one did. */
  readonly offload?: OffloadChange
}

export interface SetPortOptions extends WriteOptions {
  /** `null` clears the tag (`ovs-vsctl remove port P tag N` / `clear port P tag`). */
  readonly tag?: number | null
  readonly trunks?: readonly number[]
}

/** An Interface row as `ovs-vsctl list interface NAME` shows it (the columns nsnet watches). */
export interface OvsInterface {
  readonly _uuid: string
  readonly name: string
  readonly type: string
  readonly options: Readonly<Record<string, string>>
  readonly ofport: number | undefined
  readonly error: string | undefined
  readonly mac_in_use: string | undefined
  readonly link_state: 'up' | 'down' | undefined
  readonly admin_state: 'up' | 'down' | undefined
  readonly ifindex: number | undefined
  readonly mtu: number | undefined
  readonly other_config: Readonly<Record<string, string>>
  readonly external_ids: Readonly<Record<string, string>>
}

export interface OvsStartOptions extends Omit<ServiceOptions, 'otherConfig'> {
  /**
   * Start ovs-vswitchd with `other_config:userspace-tso-enable=true` (default true): it finishes
   * TCP checksums itself, so TCP crosses netdev bridges without touching any veth.
   */
  readonly userspaceTso?: boolean
  readonly otherConfig?: Readonly<Record<string, string>>
}

/** The tables and columns the replica holds; reads are answered from it. */
const WATCH = {
  Open_vSwitch: [
    'bridges',
    'cur_cfg',
    'next_cfg',
    'ovs_version',
    'db_version',
    'other_config',
    'external_ids',
    'datapath_types',
    'iface_types',
    'manager_options',
  ],
  Bridge: ['name', 'ports', 'datapath_type', 'fail_mode', 'controller', 'other_config', 'external_ids', 'protocols', 'stp_enable'],
  Port: ['name', 'interfaces', 'tag', 'trunks', 'vlan_mode', 'other_config', 'external_ids'],
  Interface: [
    'name',
    'type',
    'options',
    'ofport',
    'ofport_request',
    'error',
    'mac_in_use',
    'link_state',
    'admin_state',
    'ifindex',
    'mtu',
    'other_config',
    'external_ids',
    'bfd_status',
  ],
  Controller: ['target', 'is_connected'],
  Manager: ['target', 'is_connected'],
} as const

/** Tables whose rows `get`/`set` can name. */
export type OvsTable = 'Open_vSwitch' | 'Bridge' | 'Port' | 'Interface'
const SETTABLE: Readonly<Record<OvsTable, readonly string[]>> = {
  Open_vSwitch: ['other_config', 'external_ids'],
  Bridge: ['other_config', 'external_ids', 'fail_mode', 'stp_enable', 'protocols'],
  Port: ['other_config', 'external_ids', 'tag', 'trunks', 'vlan_mode'],
  Interface: ['other_config', 'external_ids', 'options', 'type', 'ofport_request', 'mtu_request', 'admin_state'],
}

/**
 * Open vSwitch through its database: `Ovs.connect()` to a running ovsdb-server,
 * `Ovs.start()` for a private one (stopped again on close()).
 */
export class Ovs implements AsyncDisposable {
  private closed = false
  /** The echo that calls of this tick share (see sync()). */
  private syncing: Promise<void> | undefined
  /** Writes waiting for vswitchd, and the timer that checks it still runs meanwhile. */
  private waitingWrites = 0
  private watch: NodeJS.Timeout | undefined
  /** Writes of this tick, sent together (see commit()). */
  private readonly writes: QueuedWrite[] = []

  private constructor(
    readonly client: OvsdbClient,
    private readonly replica: OvsdbMonitor,
    /** The private service, when Ovs.start() made it. */
    readonly service: OvsService | undefined,
    private readonly timeoutMs: number,
    /** Records a service started alone for reap (none when the caller records the daemons). */
    private readonly marker?: ServiceMarker,
  ) {}

  /** Connects to ovsdb-server (`ovs-vsctl --db=unix:PATH`); the system's /run/openvswitch/db.sock by default. */
  static async connect(socket: string = SYSTEM_DB_SOCKET, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Ovs> {
    return Ovs.attach(socket, undefined, opts)
  }

  /**
   * Starts a private ovsdb-server and ovs-vswitchd (see OvsService) and connects to it;
   * `close()` / `await using` stops both by pid and removes what vswitchd made.
   */
  static async start(opts: OvsStartOptions = {}): Promise<Ovs> {
    const otherConfig = { ...(opts.userspaceTso !== false && { 'userspace-tso-enable': 'true' }), ...opts.otherConfig }
    // A caller that records the daemons itself (a topology) passes onDaemon; else a marker does.
    const marker = opts.onDaemon ? undefined : new ServiceMarker(opts.namespace === undefined)
    let service: OvsService
    try {
      service = await startService(
        { ...opts, otherConfig, onDaemon: opts.onDaemon ?? ((d) => marker!.daemon(d)), onDir: opts.onDir ?? ((dir) => marker?.dir(dir)) },
        (sock) => initDatabase(sock, otherConfig, opts),
      )
    } catch (e) {
      marker?.remove()
      throw e
    }
    try {
      return await Ovs.attach(service.dbSocket, service, opts, marker)
    } catch (e) {
      await service.stop()
      marker?.remove()
      throw e
    }
  }

  private static async attach(
    socket: string,
    service: OvsService | undefined,
    opts: { timeoutMs?: number; signal?: AbortSignal },
    marker?: ServiceMarker,
  ): Promise<Ovs> {
    const timeoutMs = opts.timeoutMs ?? 15_000
    const client = await OvsdbClient.connect(socket, { timeoutMs, signal: opts.signal })
    try {
      const replica = await client.monitor(DB, Object.fromEntries(Object.entries(WATCH).map(([t, columns]) => [t, { columns }])), { signal: opts.signal })
      return new Ovs(client, replica, service, timeoutMs, marker)
    } catch (e) {
      client.close()
      throw e
    }
  }

  /** `ovs-vsctl list-br`: bridge names, sorted. */
  async listBridges(opts?: ReadOptions): Promise<readonly string[]> {
    await this.sync(opts)
    return Object.freeze(
      this.replica
        .rows('Bridge')
        .map((b) => b.name as string)
        .sort(),
    )
  }

  /** `ovs-vsctl br-exists NAME`. */
  async bridgeExists(name: string, opts?: ReadOptions): Promise<boolean> {
    await this.sync(opts)
    return this.byName('Bridge', name) !== undefined
  }

  /** `ovs-vsctl list-ports BRIDGE`: its port names, sorted, without the bridge's own local port. */
  async listPorts(bridge: string, opts?: ReadOptions): Promise<readonly string[]> {
    checkName(bridge, 'ovs.listPorts', 'bridge')
    await this.sync(opts)
    const br = this.requireBridge(bridge, 'ovs.listPorts')
    const ports = (br.ports as string[]).map((u) => this.replica.row('Port', u)?.name as string).filter((n) => n !== undefined && n !== bridge)
    return Object.freeze(ports.sort())
  }

  /** `ovs-vsctl port-to-br PORT`: the bridge that has the port, or undefined. */
  async portToBridge(port: string, opts?: ReadOptions): Promise<string | undefined> {
    await this.sync(opts)
    const p = this.byName('Port', port)
    return p && (this.bridgeOfPort(p._uuid)?.name as string | undefined)
  }

  /** `ovs-vsctl list interface NAME` (the watched columns); undefined when there is none. */
  async getInterface(name: string, opts?: ReadOptions): Promise<OvsInterface | undefined> {
    await this.sync(opts)
    const i = this.byName('Interface', name)
    return i && interfaceOf(i)
  }

  /** `ovs-vsctl show`, as a typed object. */
  async show(opts?: ReadOptions): Promise<OvsShow> {
    await this.sync(opts)
    return show(this.replica)
  }

  /**
   * `ovs-vsctl get TABLE RECORD COLUMN[:KEY]`: Open_vSwitch (record '.'), Bridge, Port or Interface by name.
   * Maps come back as objects, sets as arrays; an absent key or empty optional is undefined.
   */
  async get(table: OvsTable, record: string, column: string, opts?: ReadOptions): Promise<Datum> {
    await this.sync(opts)
    const row = this.record(table, record, 'ovs.get')
    const [col, key] = splitKey(column)
    if (!(WATCH[table] as readonly string[]).includes(col)) {
      throw invalidArgument(`column ${col} of ${table} is not one nsnet reads`, { operation: 'ovs.get', object: `${table} ${record}` })
    }
    const v = row[col]
    if (key === undefined) return v
    return (v as Record<string, Atom> | undefined)?.[key]
  }

  /**
   * `ovs-vsctl set TABLE RECORD COLUMN=VALUE ...`: `{ 'other_config:k': 'v' }` sets one key,
   * `{ other_config: {...} }` replaces the whole map; `{ 'other_config:k': undefined }` removes the key
   * (`ovs-vsctl remove TABLE RECORD other_config k`). Columns: other_config, external_ids and a few
   * per table (see SETTABLE).
   */
  async set(table: OvsTable, record: string, values: Readonly<Record<string, unknown>>, opts: WriteOptions = {}): Promise<void> {
    await this.sync(opts)
    const row = this.record(table, record, 'ovs.set')
    const object = `${table} ${record}`
    const row2: Record<string, WireValue> = {}
    const mutations: unknown[] = []
    for (const [k, v] of Object.entries(values)) {
      const [col, key] = splitKey(k)
      if (!SETTABLE[table].includes(col)) {
        throw invalidArgument(`column ${col} of ${table} cannot be set here (settable: ${SETTABLE[table].join(', ')})`, { operation: 'ovs.set', object })
      }
      if (key !== undefined) {
        if (v !== undefined && typeof v !== 'string') throw invalidArgument(`${k} must be a string, got ${JSON.stringify(v)}`, { operation: 'ovs.set', object })
        mutations.push([col, 'delete', set([key])])
        if (v !== undefined) mutations.push([col, 'insert', map({ [key]: v })])
      } else {
        row2[col] = encodeColumn(col, v, object)
      }
    }
    const where = [['_uuid', '==', uuid(row._uuid)]]
    const ops: Operation[] = []
    if (Object.keys(row2).length) ops.push({ op: 'update', table, where, row: row2 })
    if (mutations.length) ops.push({ op: 'mutate', table, where, mutations })
    if (!ops.length) return
    await this.commit(ops, object, [], opts)
  }

  /** `ovs-vsctl [--may-exist] add-br NAME -- set bridge NAME datapath_type=netdev`. */
  async addBridge(name: string, opts: AddBridgeOptions = {}): Promise<void> {
    const operation = 'ovs.addBridge'
    checkName(name, operation, 'bridge')
    const datapathType = opts.datapathType ?? 'netdev'
    if (datapathType !== 'netdev' && datapathType !== 'system')
      throw invalidArgument(`datapathType must be 'netdev' or 'system', got ${JSON.stringify(datapathType)}`, { operation, object: `bridge ${name}` })
    if (opts.failMode !== undefined && opts.failMode !== 'standalone' && opts.failMode !== 'secure') {
      throw invalidArgument(`failMode must be 'standalone' or 'secure', got ${JSON.stringify(opts.failMode)}`, { operation, object: `bridge ${name}` })
    }
    checkStringMap(opts.otherConfig, 'otherConfig', operation, name)
    checkStringMap(opts.externalIds, 'externalIds', operation, name)
    await this.sync(opts)
    if (this.byName('Bridge', name)) {
      if (opts.mayExist) return
      throw new NsnetError(`bridge ${name} already exists`, {
        code: 'EEXIST',
        operation,
        object: `bridge ${name}`,
        hint: 'pass mayExist (--may-exist) to accept it',
      })
    }
    if (this.byName('Port', name) || this.byName('Interface', name)) {
      throw new NsnetError(`a port or interface named ${name} already exists`, { code: 'EEXIST', operation, object: `bridge ${name}` })
    }
    const ovs = this.root()
    if (datapathType === 'netdev') this.marker?.taps([name])
    const ops: Operation[] = [
      { op: 'insert', table: 'Interface', 'uuid-name': 'iface', row: { name, type: 'internal' } },
      { op: 'insert', table: 'Port', 'uuid-name': 'port', row: { name, interfaces: namedUuid('iface') } },
      {
        op: 'insert',
        table: 'Bridge',
        'uuid-name': 'bridge',
        row: {
          name,
          ports: namedUuid('port'),
          datapath_type: datapathType,
          ...(opts.failMode && { fail_mode: opts.failMode }),
          ...(opts.otherConfig && { other_config: map(opts.otherConfig) }),
          ...(opts.externalIds && { external_ids: map(opts.externalIds) }),
        },
      },
      { op: 'mutate', table: DB, where: [['_uuid', '==', uuid(ovs._uuid)]], mutations: [['bridges', 'insert', set([namedUuid('bridge')])]] },
    ]
    await this.commit(ops, `bridge ${name}`, [{ name, slot: 0 }], opts, async () => this.deleteBridge(name, { ifExists: true, noWait: true }))
    if (datapathType === 'netdev' && !opts.noWait) await this.marker?.claim([name])
  }

  /** `ovs-vsctl [--if-exists] del-br NAME`: its ports and interfaces go with it (OVSDB garbage-collects them). */
  async deleteBridge(name: string, opts: WriteOptions & { ifExists?: boolean } = {}): Promise<void> {
    const operation = 'ovs.deleteBridge'
    checkName(name, operation, 'bridge')
    await this.sync(opts)
    const br = this.byName('Bridge', name)
    if (!br) {
      if (opts.ifExists) return
      throw noBridge(name, operation)
    }
    const ovs = this.root()
    await this.commit(
      [{ op: 'mutate', table: DB, where: [['_uuid', '==', uuid(ovs._uuid)]], mutations: [['bridges', 'delete', set([uuid(br._uuid)])]] }],
      `bridge ${name}`,
      [],
      opts,
    )
  }

  /**
   * `ovs-vsctl [--may-exist] add-port BRIDGE PORT [tag=N] [-- set interface PORT type=T options:k=v]`.
   * Fails (and takes the port out again) when vswitchd cannot open it, quoting Interface.error.
   */
  async addPort(bridge: string, port: string, opts: AddPortOptions = {}): Promise<AddPortResult> {
    const operation = 'ovs.addPort'
    checkName(bridge, operation, 'bridge')
    checkName(port, operation, 'port')
    const object = `port ${port} on bridge ${bridge}`
    if (opts.type !== undefined && !PORT_TYPES.includes(opts.type)) {
      throw invalidArgument(`type must be one of ${PORT_TYPES.join(', ')}, got ${JSON.stringify(opts.type)}`, { operation, object })
    }
    if (opts.tag !== undefined) checkVlan(opts.tag, 'tag', operation, object)
    for (const t of opts.trunks ?? []) checkVlan(t, 'trunks', operation, object)
    checkStringMap(opts.options, 'options', operation, port)
    checkStringMap(opts.otherConfig, 'otherConfig', operation, port)
    checkStringMap(opts.externalIds, 'externalIds', operation, port)
    if (opts.type === 'patch' && !opts.options?.peer) throw invalidArgument('a patch port needs options.peer', { operation, object })
    if (opts.type === 'vxlan' && !opts.options?.remote_ip) throw invalidArgument('a vxlan port needs options.remote_ip', { operation, object })
    if (opts.checksumOffload !== undefined && opts.checksumOffload !== 'auto' && opts.checksumOffload !== 'keep') {
      throw invalidArgument(`checksumOffload must be 'auto' or 'keep', got ${JSON.stringify(opts.checksumOffload)}`, { operation, object })
    }
    await this.sync(opts)
    const br = this.requireBridge(bridge, operation)
    const existing = this.byName('Port', port)
    if (existing) {
      const on = this.bridgeOfPort(existing._uuid)?.name
      if (opts.mayExist && on === bridge) return Object.freeze({})
      throw new NsnetError(`port ${port} already exists${on ? ` on bridge ${on}` : ''}`, {
        code: 'EEXIST',
        operation,
        object,
        hint: on === bridge ? 'pass mayExist (--may-exist) to accept it' : undefined,
      })
    }
    if (this.byName('Interface', port)) throw new NsnetError(`an interface named ${port} already exists`, { code: 'EEXIST', operation, object })
    const type = opts.type === undefined || opts.type === 'system' ? undefined : opts.type
    if (type === 'internal' && br.datapath_type === 'netdev') this.marker?.taps([port])
    const ops: Operation[] = [
      {
        op: 'insert',
        table: 'Interface',
        'uuid-name': 'iface',
        row: {
          name: port,
          ...(type && { type }),
          ...(opts.options && { options: map(opts.options) }),
        },
      },
      {
        op: 'insert',
        table: 'Port',
        'uuid-name': 'port',
        row: {
          name: port,
          interfaces: namedUuid('iface'),
          ...(opts.tag !== undefined && { tag: opts.tag }),
          ...(opts.trunks && { trunks: set(opts.trunks) }),
          ...(opts.otherConfig && { other_config: map(opts.otherConfig) }),
          ...(opts.externalIds && { external_ids: map(opts.externalIds) }),
        },
      },
      { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(br._uuid)]], mutations: [['ports', 'insert', set([namedUuid('port')])]] },
    ]
    await this.commit(ops, object, [{ name: port, slot: 0 }], opts, async () => this.deletePort(bridge, port, { ifExists: true, noWait: true }))
    if (type === 'internal' && br.datapath_type === 'netdev' && !opts.noWait) await this.marker?.claim([port])
    const tso = (this.root().other_config as Record<string, string>)['userspace-tso-enable'] === 'true'
    if ((opts.checksumOffload ?? 'auto') === 'keep' || type !== undefined || br.datapath_type !== 'netdev' || tso || opts.noWait) return Object.freeze({})
    const offload = await checksumOffPeer(this.service?.namespace, port)
    return Object.freeze(offload ? { offload } : {})
  }

  /** `ovs-vsctl [--if-exists] del-port [BRIDGE] PORT`. */
  async deletePort(bridge: string | undefined, port: string, opts: WriteOptions & { ifExists?: boolean } = {}): Promise<void> {
    const operation = 'ovs.deletePort'
    if (bridge !== undefined) checkName(bridge, operation, 'bridge')
    checkName(port, operation, 'port')
    const object = bridge ? `port ${port} on bridge ${bridge}` : `port ${port}`
    await this.sync(opts)
    if (bridge !== undefined && !this.byName('Bridge', bridge)) {
      if (opts.ifExists) return
      throw noBridge(bridge, operation)
    }
    const p = this.byName('Port', port)
    const br = p && this.bridgeOfPort(p._uuid)
    if (!p || !br || (bridge !== undefined && br.name !== bridge)) {
      if (opts.ifExists) return
      throw new NsnetError(p && br ? `port ${port} is on bridge ${br.name as string}, not ${bridge}` : `no port named ${port}`, {
        code: 'ENOTFOUND',
        operation,
        object,
        hint: p ? undefined : 'pass ifExists (--if-exists) to accept that',
      })
    }
    if (br.name === port) throw invalidArgument(`port ${port} is the bridge's own port; delete the bridge instead`, { operation, object })
    await this.commit(
      [{ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', uuid(br._uuid)]], mutations: [['ports', 'delete', set([uuid(p._uuid)])]] }],
      object,
      [],
      opts,
    )
  }

  /** `ovs-vsctl set port PORT tag=N trunks=[...]` (`tag: null` is `ovs-vsctl clear port PORT tag`). */
  async setPort(port: string, changes: SetPortOptions): Promise<void> {
    const operation = 'ovs.setPort'
    checkName(port, operation, 'port')
    const object = `port ${port}`
    if (changes.tag !== undefined && changes.tag !== null) checkVlan(changes.tag, 'tag', operation, object)
    for (const t of changes.trunks ?? []) checkVlan(t, 'trunks', operation, object)
    const values: Record<string, unknown> = {}
    if (changes.tag !== undefined) values.tag = changes.tag === null ? undefined : changes.tag
    if (changes.trunks !== undefined) values.trunks = changes.trunks
    await this.sync(changes)
    if (!this.byName('Port', port)) throw new NsnetError(`no port named ${port}`, { code: 'ENOTFOUND', operation, object })
    await this.set('Port', port, values, changes)
  }

  /**
   * Closes the connection. For a service Ovs.start() made: deletes every bridge while
   * vswitchd runs (so it removes its taps), stops both daemons by pid, and deletes any tap
   * a dead vswitchd left behind.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const taps = this.service ? this.tapNames() : []
    try {
      if (this.service?.vswitchdAlive && !this.client.closedError) {
        const ovs = this.replica.rows(DB)[0]
        if (ovs && (ovs.bridges as string[]).length) {
          await this.commit([{ op: 'update', table: DB, where: [['_uuid', '==', uuid(ovs._uuid)]], row: { bridges: set([]) } }], 'every bridge', [], {
            timeoutMs: 5000,
          }).catch(() => undefined)
        }
      }
    } finally {
      this.client.close()
      await this.service?.stop({ taps })
      this.marker?.remove()
    }
  }

  /** Names of the devices a netdev datapath makes: one tap per internal interface. */
  private tapNames(): string[] {
    return this.replica
      .rows('Interface')
      .filter((i) => i.type === 'internal')
      .map((i) => i.name as string)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /**
   * Makes the replica current with everything committed before this call: ovsdb-server
   * flushes a session's pending monitor updates before it reads the next request, so once an
   * echo comes back every earlier commit is in. Calls made in the same tick share one echo
   * (it is sent after all of them started); one with a signal or timeout gets its own.
   */
  private sync(opts?: ReadOptions): Promise<void> {
    if (opts?.signal || opts?.timeoutMs !== undefined) {
      return this.client.echo(['sync'], { signal: opts.signal, timeoutMs: opts.timeoutMs ?? this.timeoutMs }).then(() => undefined)
    }
    this.syncing ??= Promise.resolve().then(() => {
      this.syncing = undefined
      return this.client.echo(['sync'], { timeoutMs: this.timeoutMs }).then(() => undefined)
    })
    return this.syncing
  }

  /**
   * Commits `ops` and waits until vswitchd applied them; `fresh` are the new interfaces (name,
   * slot of their insert) that must get an ofport. On failure `undo` runs before the error is
   * thrown. Writes started in the same tick (100 addPorts in a Promise.all) go out as one
   * transaction with one next_cfg, as one ovs-vsctl with many `--` clauses does; if that
   * transaction fails, each is sent again on its own so each gets its own answer. A write with
   * its own signal, timeout or noWait always goes alone.
   */
  private commit(ops: Operation[], object: string, fresh: Fresh[], opts: WriteOptions, undo?: () => Promise<void>): Promise<void> {
    if (opts.signal || opts.noWait || opts.timeoutMs !== undefined) return this.commitAlone({ ops, object, fresh, opts, undo })
    return new Promise((resolve, reject) => {
      this.writes.push({ ops, object, fresh, opts, undo, settle: (e) => (e === undefined ? resolve() : reject(e)) })
      if (this.writes.length === 1) queueMicrotask(() => void this.flush())
    })
  }

  private async flush(): Promise<void> {
    const batch = this.writes.splice(0)
    const alone = (w: QueuedWrite) =>
      this.commitAlone(w).then(
        () => w.settle(),
        (e) => w.settle(e),
      )
    if (batch.length === 1) return alone(batch[0]!)
    const ops: Operation[] = []
    const starts: number[] = []
    batch.forEach((w, k) => {
      starts.push(ops.length)
      for (const op of w.ops) ops.push(prefixNamedUuids(op, `w${k}_`))
    })
    let sent: { nextCfg: number; results: readonly OperationResult[] }
    try {
      sent = await this.send(ops, `${batch.length} changes`, {})
    } catch {
      await Promise.all(batch.map(alone))
      return
    }
    await Promise.all(
      batch.map((w, k) => {
        const ifaces = w.fresh.map((f) => ({ name: f.name, uuid: sent.results[starts[k]! + f.slot]!.uuid! }))
        return this.applied(sent.nextCfg, ifaces, w.object, w.opts, w.undo).then(
          () => w.settle(),
          (e) => w.settle(e),
        )
      }),
    )
  }

  private async commitAlone(w: Omit<QueuedWrite, 'settle'>): Promise<void> {
    const sent = await this.send(w.ops, w.object, w.opts)
    if (w.opts.noWait) return
    const ifaces = w.fresh.map((f) => ({ name: f.name, uuid: sent.results[f.slot]!.uuid! }))
    await this.applied(sent.nextCfg, ifaces, w.object, w.opts, w.undo)
  }

  /** Sends `ops` plus `next_cfg += 1`, its `select` and a comment as one transaction. */
  private async send(ops: Operation[], object: string, opts: WriteOptions): Promise<{ nextCfg: number; results: readonly OperationResult[] }> {
    const ovs = this.root()
    const where = [['_uuid', '==', uuid(ovs._uuid)]]
    const all: Operation[] = [
      ...ops,
      { op: 'mutate', table: DB, where, mutations: [['next_cfg', '+=', 1]] },
      { op: 'select', table: DB, where, columns: ['next_cfg'] },
      { op: 'comment', comment: `nsnet: ${object}` },
    ]
    const results = await this.client.transact(DB, all, { object, signal: opts.signal, timeoutMs: opts.timeoutMs ?? this.timeoutMs })
    return { nextCfg: results[ops.length + 1]!.rows![0]!.next_cfg as number, results }
  }

  /** Waits until cur_cfg >= nextCfg and every one of `ifaces` has an ofport; else fails (after `undo`). */
  private async applied(
    nextCfg: number,
    ifaces: { name: string; uuid: string }[],
    object: string,
    opts: WriteOptions,
    undo?: () => Promise<void>,
  ): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs
    let failed: { name: string; error: string | undefined } | undefined
    // A vswitchd we started that died never applies anything: notice it instead of timing out
    // (one timer for all waiting writes).
    if (this.service && this.waitingWrites++ === 0) this.watch = setInterval(() => this.replica.wake(), 200)
    try {
      failed = await this.replica.until(
        () => {
          if (this.service && !this.service.vswitchdAlive) {
            throw new NsnetError('ovs-vswitchd is not running; the change is in the database but nothing applies it', {
              code: 'EOVSDB',
              operation: 'ovs.commit',
              object,
              hint: this.logHint('see the ovs-vswitchd log'),
            })
          }
          const cur = this.replica.rows(DB)[0]?.cur_cfg as number | undefined
          if (cur === undefined || cur < nextCfg) return undefined
          // vswitchd writes cur_cfg and the new ofports in one transaction (ovs-vsctl checks
          // them together too), so an interface still without an ofport now has failed.
          for (const i of ifaces) {
            const row = this.replica.row('Interface', i.uuid)
            const ofport = row?.ofport as number | undefined
            if (ofport === undefined || ofport < 1) return { name: i.name, error: row?.error as string | undefined }
          }
          return { name: '', error: undefined }
        },
        {
          timeoutMs,
          signal: opts.signal,
          onTimeout: () => {
            const cur = this.replica.rows(DB)[0]?.cur_cfg as number | undefined
            return new NsnetError(`ovs-vswitchd did not apply the change within ${timeoutMs} ms (cur_cfg ${cur} < next_cfg ${nextCfg})`, {
              code: 'ETIMEDOUT',
              operation: 'ovs.commit',
              object,
              hint: this.logHint('is ovs-vswitchd running and connected to this database?'),
            })
          },
        },
      )
    } catch (e) {
      if (undo && !this.client.closedError) await undo().catch(() => undefined)
      throw e
    } finally {
      if (this.service && --this.waitingWrites === 0) clearInterval(this.watch)
    }
    if (failed.name) {
      if (undo) await undo().catch(() => undefined)
      throw new NsnetError(`ovs-vswitchd could not set up interface ${failed.name}${failed.error ? `: ${failed.error}` : ' (no ofport)'}`, {
        code: 'EOVSDB',
        operation: 'ovs.commit',
        object,
        hint: this.logHint(failed.error ? undefined : 'see the ovs-vswitchd log', failed.name),
      })
    }
  }

  private logHint(fallback?: string, about?: string): string | undefined {
    const log = this.service?.vswitchdLog(2, about)
    return log ? `ovs-vswitchd log: ${log}` : fallback
  }

  private root(): Row {
    const ovs = this.replica.rows(DB)[0]
    if (!ovs)
      throw new NsnetError('the database has no Open_vSwitch row', { code: 'EOVSDB', operation: 'ovs', hint: 'initialise it with `ovs-vsctl --no-wait init`' })
    return ovs
  }

  private byName(table: string, name: string): Row | undefined {
    return this.replica.rows(table).find((r) => r.name === name)
  }

  private requireBridge(name: string, operation: string): Row {
    const br = this.byName('Bridge', name)
    if (!br) throw noBridge(name, operation)
    return br
  }

  private bridgeOfPort(portUuid: string): Row | undefined {
    return this.replica.rows('Bridge').find((b) => (b.ports as string[]).includes(portUuid))
  }

  private record(table: OvsTable, record: string, operation: string): Row {
    if (!(table in SETTABLE)) throw invalidArgument(`table must be one of ${Object.keys(SETTABLE).join(', ')}, got ${JSON.stringify(table)}`, { operation })
    const row = table === DB ? this.replica.rows(DB)[0] : this.byName(table, record)
    if (!row) throw new NsnetError(`no ${table} named ${record}`, { code: 'ENOTFOUND', operation, object: `${table} ${record}` })
    return row
  }
}

/** A new interface of a write: its name and the slot of its insert among the write's operations. */
interface Fresh {
  readonly name: string
  readonly slot: number
}

interface QueuedWrite {
  readonly ops: Operation[]
  readonly object: string
  readonly fresh: Fresh[]
  readonly opts: WriteOptions
  readonly undo?: () => Promise<void>
  settle(e?: unknown): void
}

/** The operation with its uuid-name and every named-uuid it refers to prefixed (for merging writes). */
function prefixNamedUuids(op: Operation, prefix: string): Operation {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v[0] === 'named-uuid' && typeof v[1] === 'string' ? ['named-uuid', prefix + v[1]] : v.map(walk)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'uuid-name' ? prefix + String(x) : walk(x)]))
    return v
  }
  return walk(op) as Operation
}

/** `ovs-vsctl --no-wait init` (plus other_config), through our own client. */
async function initDatabase(socket: string, otherConfig: Readonly<Record<string, string>>, opts: { timeoutMs?: number; signal?: AbortSignal }): Promise<void> {
  const client = await OvsdbClient.connect(socket, opts)
  try {
    const [sel] = await client.transact(DB, [{ op: 'select', table: DB, where: [], columns: ['_uuid'] }], opts)
    const row = { other_config: map(otherConfig) }
    const op: Operation = sel!.rows!.length ? { op: 'update', table: DB, where: [], row } : { op: 'insert', table: DB, row }
    await client.transact(DB, [op, { op: 'comment', comment: 'nsnet: init' }], opts)
  } finally {
    client.close()
  }
}

function interfaceOf(i: Row): OvsInterface {
  const pick = [
    '_uuid',
    'name',
    'type',
    'options',
    'ofport',
    'error',
    'mac_in_use',
    'link_state',
    'admin_state',
    'ifindex',
    'mtu',
    'other_config',
    'external_ids',
  ]
  return Object.freeze(Object.fromEntries(pick.map((k) => [k, i[k]]))) as unknown as OvsInterface
}

function encodeColumn(col: string, v: unknown, object: string): WireValue {
  const bad = () => invalidArgument(`${col} cannot take ${JSON.stringify(v)}`, { operation: 'ovs.set', object })
  if (col === 'other_config' || col === 'external_ids' || col === 'options') {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw bad()
    return map(v as Record<string, string>)
  }
  if (col === 'trunks' || col === 'protocols') {
    if (!Array.isArray(v)) throw bad()
    return set(v as Atom[])
  }
  if (v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return optional(v)
  throw bad()
}

function splitKey(k: string): [string, string | undefined] {
  const i = k.indexOf(':')
  return i < 0 ? [k, undefined] : [k.slice(0, i), k.slice(i + 1)]
}

function checkName(name: unknown, operation: string, what: string): void {
  if (typeof name !== 'string' || name.length === 0)
    throw invalidArgument(`${what} name must be a non-empty string, got ${JSON.stringify(name)}`, { operation })
  const bytes = Buffer.byteLength(name)
  if (bytes >= IFNAMSIZ)
    throw invalidArgument(`${what} name "${name}" is ${bytes} bytes; at most ${IFNAMSIZ - 1} (it becomes a network device)`, {
      operation,
      object: `${what} ${name}`,
    })
  if (/[\s/:]/.test(name) || name === '.' || name === '..')
    throw invalidArgument(`${what} name "${name}" contains whitespace, / or :`, { operation, object: `${what} ${name}` })
}

function checkVlan(v: unknown, what: string, operation: string, object: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 4095)
    throw invalidArgument(`${what} must be a VLAN id 0..4095, got ${JSON.stringify(v)}`, { operation, object })
}

function checkStringMap(m: unknown, what: string, operation: string, name: string): void {
  if (m === undefined) return
  if (!m || typeof m !== 'object' || Array.isArray(m) || !Object.values(m).every((x) => typeof x === 'string')) {
    throw invalidArgument(`${what} must map strings to strings, got ${JSON.stringify(m)}`, { operation, object: name })
  }
}

function noBridge(name: string, operation: string): NsnetError {
  return new NsnetError(`no bridge named ${name}`, { code: 'ENOTFOUND', operation, object: `bridge ${name}` })
}
