// An OVSDB client (RFC 7047 with the OVS extensions monitor_cond/update2): list_dbs,
// get_schema, transact with every result slot checked, monitors kept as a replica of
// the rows they cover, echo and cancel. Everything it returns is plain frozen data.
import { NsnetError } from '../netlink/errors.js'
import { applyDiff, type ColumnType, type DatabaseSchema, type Datum, decodeRow, parseSchema, type TableSchema } from './datum.js'
import { describeOvsdbError, ovsdbError, type RpcCallOptions, RpcSession } from './rpc.js'

/** The system's database socket, where ovs-vsctl looks by default. */
export const SYSTEM_DB_SOCKET = '/run/openvswitch/db.sock'

export interface OvsdbConnectOptions {
  /** Default timeout of every call, ms; default 15000. */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

/** One OVSDB operation (RFC 7047 §5.2), as sent. */
export type Operation = Readonly<Record<string, unknown>> & { readonly op: string }

/** One slot of a transact reply: `{uuid}`, `{count}`, `{rows}` or `{}`; rows decoded by the schema when known. */
export interface OperationResult {
  readonly uuid?: string
  readonly count?: number
  readonly rows?: readonly Readonly<Record<string, Datum>>[]
}

/** A decoded row, `_uuid` included. */
export type Row = Readonly<Record<string, Datum>> & { readonly _uuid: string }

export interface MonitorRequest {
  /** Columns to watch; all when omitted. */
  readonly columns?: readonly string[]
  /** Conditions for monitor_cond (`[column, function, value]`); ignored by the plain monitor fallback. */
  readonly where?: readonly unknown[]
}

/** One change a monitor saw. */
export interface RowChange {
  readonly table: string
  readonly uuid: string
  readonly kind: 'initial' | 'insert' | 'modify' | 'delete'
  /** The row after the change; undefined for a delete. */
  readonly row?: Row
}

export interface MonitorOptions extends RpcCallOptions {
  /** Called with the changes of each update notification, after the replica applied them. */
  readonly onChange?: (changes: readonly RowChange[]) => void
}

/** A live monitor: a replica of the watched rows, kept current by update/update2 notifications. */
export class OvsdbMonitor {
  /** `monitor_cond` when the server has it, else `monitor`. */
  readonly method: 'monitor_cond' | 'monitor'
  private readonly tables = new Map<string, Map<string, Record<string, unknown>>>()
  /** Decoded rows, dropped when their row changes: reads by name scan every row. */
  private readonly decoded = new Map<string, Map<string, Row>>()
  private readonly waiters = new Set<() => void>()
  /** Updates that arrived before the initial rows were applied (the reply resolves a tick later). */
  private early: Array<[unknown, boolean]> | undefined = []

  constructor(
    private readonly client: OvsdbClient,
    readonly db: string,
    readonly id: string,
    method: 'monitor_cond' | 'monitor',
    private readonly schema: DatabaseSchema,
    private readonly onChange?: (changes: readonly RowChange[]) => void,
  ) {
    this.method = method
  }

  /** Every row of `table` the monitor holds, decoded. */
  rows(table: string): Row[] {
    const t = this.tables.get(table)
    if (!t) return []
    return [...t.entries()].map(([u, r]) => this.cached(table, u, r))
  }

  /** One row by uuid, decoded; undefined when the monitor does not hold it. */
  row(table: string, uuid: string): Row | undefined {
    const r = this.tables.get(table)?.get(uuid)
    return r && this.cached(table, uuid, r)
  }

  private cached(table: string, uuid: string, r: Record<string, unknown>): Row {
    let c = this.decoded.get(table)
    if (!c) this.decoded.set(table, (c = new Map()))
    let row = c.get(uuid)
    if (!row) c.set(uuid, (row = this.decode(table, uuid, r)))
    return row
  }

  /**
   * Resolves with `test()`'s first defined answer, asked now and after every update;
   * rejects on timeout, abort or when the connection ends.
   */
  until<T>(test: () => T | undefined, opts: { timeoutMs: number; signal?: AbortSignal; onTimeout: () => NsnetError }): Promise<T> {
    const now = test()
    if (now !== undefined) return Promise.resolve(now)
    return new Promise((resolve, reject) => {
      const finish = (e?: NsnetError, v?: T) => {
        this.waiters.delete(check)
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        if (e) reject(e)
        else resolve(v as T)
      }
      const check = () => {
        if (this.client.closedError) return finish(this.client.closedError)
        let v: T | undefined
        try {
          v = test()
        } catch (e) {
          return finish(e as NsnetError)
        }
        if (v !== undefined) finish(undefined, v)
      }
      const onAbort = () => finish(new NsnetError('aborted by the caller', { code: 'EABORTED', operation: 'wait' }))
      const timer = setTimeout(() => finish(opts.onTimeout()), opts.timeoutMs)
      if (opts.signal?.aborted) return onAbort()
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.add(check)
    })
  }

  /** `monitor_cancel`: the server stops sending updates; the replica stays as it was. */
  async cancel(opts?: RpcCallOptions): Promise<void> {
    this.client.dropMonitor(this.id)
    await this.client.call('monitor_cancel', [this.id], opts)
  }

  /** Takes a notification's updates; held back until the initial rows are in. */
  notified(updates: unknown, v2: boolean): void {
    if (this.early) this.early.push([updates, v2])
    else this.apply(updates, v2, false)
  }

  /** Applies the monitor reply's rows, then whatever notifications came meanwhile. */
  applyInitial(updates: unknown, v2: boolean): void {
    this.apply(updates, v2, true)
    const early = this.early ?? []
    this.early = undefined
    for (const [u, isV2] of early) this.apply(u, isV2, false)
  }

  /** Applies a monitor reply or notification. `v2` is the update2 format. */
  private apply(updates: unknown, v2: boolean, initial: boolean): void {
    const changes: RowChange[] = []
    for (const [table, rows] of Object.entries((updates ?? {}) as Record<string, Record<string, Record<string, unknown>>>)) {
      const ts = this.schema.tables[table]
      let t = this.tables.get(table)
      if (!t) this.tables.set(table, (t = new Map()))
      for (const [u, change] of Object.entries(rows)) {
        this.decoded.get(table)?.delete(u)
        let kind: RowChange['kind']
        if (v2) {
          if ('delete' in change) {
            t.delete(u)
            kind = 'delete'
          } else if ('modify' in change) {
            const cur = { ...(t.get(u) ?? {}) }
            for (const [col, diff] of Object.entries(change.modify as Record<string, unknown>)) {
              cur[col] = applyDiff(cur[col], diff, ts?.columns[col])
            }
            t.set(u, cur)
            kind = 'modify'
          } else {
            const row = (change.initial ?? change.insert) as Record<string, unknown>
            t.set(u, { ...row })
            kind = 'initial' in change ? 'initial' : 'insert'
          }
        } else {
          const { old, new: next } = change as { old?: Record<string, unknown>; new?: Record<string, unknown> }
          if (!next) {
            t.delete(u)
            kind = 'delete'
          } else {
            kind = initial ? 'initial' : old ? 'modify' : 'insert'
            t.set(u, { ...(t.get(u) ?? {}), ...next })
          }
        }
        const cur = t.get(u)
        changes.push(Object.freeze({ table, uuid: u, kind, row: cur && this.cached(table, u, cur) }))
      }
    }
    if (changes.length) this.onChange?.(Object.freeze(changes))
    this.wake()
  }

  /** Runs every waiter's check (after an update, or when the connection ended). */
  wake(): void {
    for (const w of [...this.waiters]) w()
  }

  private decode(table: string, uuid: string, r: Record<string, unknown>): Row {
    // Columns the server left out of the row hold their default: decode an empty set for them.
    const ts: TableSchema | undefined = this.schema.tables[table]
    const full: Record<string, unknown> = {}
    if (ts) for (const [col, type] of Object.entries(ts.columns)) if (col[0] !== '_') full[col] = defaultValue(type)
    const d = decodeRow({ ...full, ...r }, ts) as Record<string, Datum>
    return Object.freeze({ ...d, _uuid: uuid }) as Row
  }
}

export class OvsdbClient {
  private readonly schemas = new Map<string, DatabaseSchema>()
  private readonly monitors = new Map<string, OvsdbMonitor>()
  private nextMonitor = 1
  /** Set once the connection ended; every later call rejects with it. */
  closedError: NsnetError | undefined

  private constructor(
    private readonly session: RpcSession,
    readonly endpoint: string,
  ) {}

  /** Connects to `unix:PATH`, a socket path or `tcp:HOST:PORT` (the system's db.sock by default). */
  static async connect(endpoint: string = SYSTEM_DB_SOCKET, opts: OvsdbConnectOptions = {}): Promise<OvsdbClient> {
    let client: OvsdbClient | undefined
    const session = await RpcSession.connect(endpoint, {
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      onNotification: (method, params) => client?.notification(method, params),
      onClose: (e) => {
        if (!client) return
        client.closedError = e
        for (const m of client.monitors.values()) m.wake()
      },
    })
    client = new OvsdbClient(session, endpoint)
    return client
  }

  /** Sends any method; for the ones without a wrapper below. */
  call(method: string, params: readonly unknown[], opts?: RpcCallOptions): Promise<unknown> {
    return this.session.call(method, params, opts)
  }

  /** `list_dbs`: the database names (`ovsdb-client list-dbs`). */
  async listDbs(opts?: RpcCallOptions): Promise<readonly string[]> {
    return Object.freeze([...((await this.call('list_dbs', [], opts)) as string[])])
  }

  /** `get_schema`: the database's schema, normalised (`ovsdb-client get-schema DB`); cached per client. */
  async getSchema(db: string, opts?: RpcCallOptions): Promise<DatabaseSchema> {
    const known = this.schemas.get(db)
    if (known) return known
    const schema = parseSchema(await this.call('get_schema', [db], { object: `database ${db}`, ...opts }))
    this.schemas.set(db, schema)
    return schema
  }

  /** `echo`: a round trip; resolves with what the server echoed. */
  async echo(payload: readonly unknown[] = ['nsnet'], opts?: RpcCallOptions): Promise<readonly unknown[]> {
    return Object.freeze([...((await this.call('echo', payload, opts)) as unknown[])])
  }

  /**
   * `transact`: runs the operations as one transaction (`ovsdb-client transact`). Checks every
   * slot as libovsdb's CheckOperationResults does: the first failing operation, or the extra
   * slot the server adds when the commit itself failed, rejects with EOVSDB naming it.
   */
  async transact(db: string, ops: readonly Operation[], opts: RpcCallOptions = {}): Promise<readonly OperationResult[]> {
    const schema = this.schemas.get(db)
    const reply = await this.call('transact', [db, ...ops], { object: opts.object ?? `database ${db}`, ...opts })
    if (!Array.isArray(reply)) throw ovsdbError(`transact reply is not an array: ${JSON.stringify(reply)}`, { operation: 'transact', object: opts.object })
    checkResults(reply, ops, opts.object)
    return Object.freeze(
      reply.map((r: Record<string, unknown> | null, i) => {
        const out: { uuid?: string; count?: number; rows?: readonly Row[] } = {}
        if (r && Array.isArray(r.uuid)) out.uuid = r.uuid[1] as string
        if (r && typeof r.count === 'number') out.count = r.count
        if (r && Array.isArray(r.rows)) {
          const table = schema?.tables[ops[i]!.table as string]
          out.rows = Object.freeze(r.rows.map((row: Record<string, unknown>) => decodeRow(row, table) as Row))
        }
        return Object.freeze(out)
      }),
    )
  }

  /**
   * `monitor_cond` (falling back to `monitor` on servers without it): resolves once the
   * initial rows are in the replica; later changes arrive as update/update2 notifications.
   */
  async monitor(db: string, requests: Readonly<Record<string, MonitorRequest>>, opts: MonitorOptions = {}): Promise<OvsdbMonitor> {
    const schema = await this.getSchema(db, opts)
    for (const [table, r] of Object.entries(requests)) {
      const ts = schema.tables[table]
      if (!ts) throw new NsnetError(`database ${db} has no table ${table}`, { code: 'EINVAL_ARGUMENT', operation: 'monitor', object: `table ${table}` })
      for (const c of r.columns ?? []) {
        if (!ts.columns[c])
          throw new NsnetError(`table ${table} has no column ${c}`, { code: 'EINVAL_ARGUMENT', operation: 'monitor', object: `table ${table}` })
      }
    }
    const id = `nsnet-${this.nextMonitor++}`
    const cond: Record<string, unknown> = {}
    const plain: Record<string, unknown> = {}
    for (const [table, r] of Object.entries(requests)) {
      const columns = r.columns ? [...r.columns] : undefined
      cond[table] = [{ ...(columns && { columns }), ...(r.where && { where: r.where }) }]
      plain[table] = { ...(columns && { columns }) }
    }
    let m = new OvsdbMonitor(this, db, id, 'monitor_cond', schema, opts.onChange)
    this.monitors.set(id, m)
    let initial: unknown
    try {
      initial = await this.call('monitor_cond', [db, id, cond], { object: `database ${db}`, ...opts })
    } catch (e) {
      if (!(e instanceof NsnetError) || e.code !== 'EOVSDB' || !/unknown method/.test(e.summary)) {
        this.monitors.delete(id)
        throw e
      }
      m = new OvsdbMonitor(this, db, id, 'monitor', schema, opts.onChange)
      this.monitors.set(id, m)
      try {
        initial = await this.call('monitor', [db, id, plain], { object: `database ${db}`, ...opts })
      } catch (e2) {
        this.monitors.delete(id)
        throw e2
      }
    }
    m.applyInitial(initial, m.method === 'monitor_cond')
    return m
  }

  /** `cancel`: asks the server to give up on request `id` (a blocking wait, say). */
  cancel(id: number): void {
    this.session.notify('cancel', [id])
  }

  /** Closes the connection; pending calls reject at once with EOVSDB. */
  close(): void {
    this.session.close()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  /** @internal */
  dropMonitor(id: string): void {
    this.monitors.delete(id)
  }

  private notification(method: string, params: readonly unknown[]): void {
    if (method !== 'update' && method !== 'update2') return
    const m = this.monitors.get(String(params[0]))
    m?.notified(params[1], method === 'update2')
  }
}

/**
 * Throws EOVSDB for the first failed slot of a transact reply. A reply longer than the
 * operations carries the commit's own error (referential integrity, constraint violation).
 */
export function checkResults(reply: readonly unknown[], ops: readonly Operation[], object?: string): void {
  for (let i = 0; i < reply.length; i++) {
    const r = reply[i] as { error?: unknown; details?: unknown } | null
    if (!r || r.error === undefined || r.error === null) continue
    const op = ops[i]
    const what = op ? `operation ${i} (${op.op}${op.table ? ` ${op.table}` : ''})` : 'the commit'
    throw new NsnetError(`${what} failed: ${describeOvsdbError(r)}`, {
      code: 'EOVSDB',
      operation: 'transact',
      object,
      index: op ? i : undefined,
      hint: hintFor(String(r.error)),
    })
  }
  if (reply.length < ops.length) {
    throw new NsnetError(`transact returned ${reply.length} results for ${ops.length} operations`, { code: 'EOVSDB', operation: 'transact', object })
  }
}

function hintFor(error: string): string | undefined {
  switch (error) {
    case 'constraint violation':
      return 'a value is out of range or an index (name) is already taken'
    case 'referential integrity violation':
      return 'a row refers to one that does not exist, or a required reference is missing'
    case 'timed out':
      return 'a wait condition did not hold: the database changed meanwhile; retry'
    case 'not owner':
      return 'another client holds the lock'
    default:
      return undefined
  }
}

/** What a column holds when the server leaves it out (RFC 7047 §5.1 defaults). */
function defaultValue(type: ColumnType): unknown {
  if (type.value) return ['map', []]
  if (type.min === 0 || type.max !== 1) return ['set', []]
  switch (type.key.type) {
    case 'string':
      return ''
    case 'boolean':
      return false
    case 'uuid':
      return ['uuid', '00000000-0000-0000-0000-000000000000']
    default:
      return 0
  }
}
