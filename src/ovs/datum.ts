// OVSDB values on the wire (RFC 7047 §5.1) and as nsnet hands them out:
// `["uuid", U]` -> 'U', `["set", [...]]` -> array, `["map", [[k, v]...]]` -> object.
// With the column's schema type a set is an array even with one element, an optional
// value (min 0, max 1) is the value or undefined, and a map is always an object.

/** A column type from the schema, normalised: key and value base types, min/max counts. */
export interface ColumnType {
  readonly key: BaseType
  readonly value?: BaseType
  readonly min: number
  /** Infinity for "unlimited". */
  readonly max: number
}

export interface BaseType {
  readonly type: 'integer' | 'real' | 'boolean' | 'string' | 'uuid'
  readonly refTable?: string
  readonly enum?: readonly unknown[]
  readonly minInteger?: number
  readonly maxInteger?: number
  readonly maxLength?: number
}

export interface TableSchema {
  readonly columns: Readonly<Record<string, ColumnType>>
  readonly isRoot: boolean
  readonly indexes: readonly (readonly string[])[]
  readonly maxRows?: number
}

/** A database schema, as get_schema returns it, with every column type normalised. */
export interface DatabaseSchema {
  readonly name: string
  readonly version: string
  readonly cksum?: string
  readonly tables: Readonly<Record<string, TableSchema>>
}

/** A wire atom: string, number, boolean, or a tagged uuid. */
export type WireAtom = string | number | boolean | ['uuid', string] | ['named-uuid', string]
/** A wire value: an atom, a set or a map. */
export type WireValue = WireAtom | ['set', WireAtom[]] | ['map', [WireAtom, WireAtom][]]

export type Atom = string | number | boolean
/** A decoded value: atoms as they are, uuids as strings, sets as arrays, maps as objects. */
export type Datum = Atom | readonly Atom[] | Readonly<Record<string, Atom>> | undefined

/** Builds a DatabaseSchema from get_schema's JSON. */
export function parseSchema(json: unknown): DatabaseSchema {
  const s = json as {
    name: string
    version: string
    cksum?: string
    tables: Record<string, { columns: Record<string, { type: unknown }>; isRoot?: boolean; indexes?: string[][]; maxRows?: number }>
  }
  const tables: Record<string, TableSchema> = {}
  for (const [name, t] of Object.entries(s.tables)) {
    const columns: Record<string, ColumnType> = { _uuid: UUID_COLUMN, _version: UUID_COLUMN }
    for (const [col, c] of Object.entries(t.columns)) columns[col] = parseColumnType(c.type)
    tables[name] = Object.freeze({
      columns: Object.freeze(columns),
      isRoot: t.isRoot === true,
      indexes: Object.freeze((t.indexes ?? []).map((i) => Object.freeze([...i]))),
      maxRows: t.maxRows,
    })
  }
  return Object.freeze({ name: s.name, version: s.version, cksum: s.cksum, tables: Object.freeze(tables) })
}

const UUID_COLUMN: ColumnType = Object.freeze({ key: Object.freeze({ type: 'uuid' as const }), min: 1, max: 1 })

function parseBase(b: unknown): BaseType {
  if (typeof b === 'string') return { type: b as BaseType['type'] }
  const o = b as { type: BaseType['type']; refTable?: string; enum?: unknown; minInteger?: number; maxInteger?: number; maxLength?: number }
  const en = o.enum === undefined ? undefined : toArray(o.enum as WireValue)
  return Object.freeze({ type: o.type, refTable: o.refTable, enum: en, minInteger: o.minInteger, maxInteger: o.maxInteger, maxLength: o.maxLength })
}

function parseColumnType(t: unknown): ColumnType {
  if (typeof t === 'string') return Object.freeze({ key: { type: t as BaseType['type'] }, min: 1, max: 1 })
  const o = t as { key: unknown; value?: unknown; min?: number; max?: number | 'unlimited' }
  return Object.freeze({
    key: parseBase(o.key),
    value: o.value === undefined ? undefined : parseBase(o.value),
    min: o.min ?? 1,
    max: o.max === 'unlimited' ? Infinity : (o.max ?? 1),
  })
}

/** One wire atom decoded: uuids to their string. */
export function decodeAtom(a: unknown): Atom {
  if (Array.isArray(a) && (a[0] === 'uuid' || a[0] === 'named-uuid') && typeof a[1] === 'string') return a[1]
  return a as Atom
}

function toArray(v: WireValue): Atom[] {
  if (Array.isArray(v) && v[0] === 'set') return (v[1] as WireAtom[]).map(decodeAtom)
  return [decodeAtom(v)]
}

function toObject(v: WireValue): Record<string, Atom> {
  const out: Record<string, Atom> = {}
  if (Array.isArray(v) && v[0] === 'map') for (const [k, val] of v[1] as [WireAtom, WireAtom][]) out[String(decodeAtom(k))] = decodeAtom(val)
  return out
}

/** Decodes a value by its column type; without one, by its shape alone. */
export function decodeDatum(v: unknown, type?: ColumnType): Datum {
  if (!type) {
    if (Array.isArray(v) && v[0] === 'set') return Object.freeze(toArray(v as WireValue))
    if (Array.isArray(v) && v[0] === 'map') return Object.freeze(toObject(v as WireValue))
    return decodeAtom(v)
  }
  if (type.value) return Object.freeze(toObject(v as WireValue))
  if (type.min === 1 && type.max === 1) return decodeAtom(v)
  const items = toArray(v as WireValue)
  if (type.max === 1) return items[0]
  return Object.freeze(items)
}

/** A row decoded column by column (unknown columns by shape); frozen. */
export function decodeRow(row: Readonly<Record<string, unknown>>, table?: TableSchema): Readonly<Record<string, Datum>> {
  const out: Record<string, Datum> = {}
  for (const [col, v] of Object.entries(row)) out[col] = decodeDatum(v, table?.columns[col])
  return Object.freeze(out)
}

// Encoding helpers for building operations.

export const uuid = (u: string): ['uuid', string] => ['uuid', u]
export const namedUuid = (n: string): ['named-uuid', string] => ['named-uuid', n]
export const set = (items: readonly WireAtom[]): ['set', WireAtom[]] => ['set', [...items]]
export const map = (o: Readonly<Record<string, string>>): ['map', [string, string][]] => ['map', Object.entries(o)]

/** The value to write for an optional column: the atom, or the empty set for undefined. */
export const optional = (a: WireAtom | undefined): WireValue => (a === undefined ? ['set', []] : a)

/**
 * Applies an update2 `modify` diff to a wire value (ovsdb-server(7)): scalars are replaced;
 * a set's diff lists elements to add or remove (toggled); a map's diff lists pairs, where a
 * new key is added, the same pair removed, and a different value replaces the old one.
 */
export function applyDiff(old: unknown, diff: unknown, type: ColumnType | undefined): unknown {
  if (!type || (type.min === 1 && type.max === 1 && !type.value)) return diff
  if (type.value) {
    const pairs = new Map<string, [WireAtom, WireAtom]>()
    for (const p of wirePairs(old)) pairs.set(atomKey(p[0]), p)
    for (const [k, v] of wirePairs(diff)) {
      const key = atomKey(k)
      const cur = pairs.get(key)
      if (cur && atomKey(cur[1]) === atomKey(v)) pairs.delete(key)
      else pairs.set(key, [k, v])
    }
    return ['map', [...pairs.values()]]
  }
  const items = new Map<string, WireAtom>()
  for (const a of wireItems(old)) items.set(atomKey(a), a)
  for (const a of wireItems(diff)) {
    const key = atomKey(a)
    if (items.has(key)) items.delete(key)
    else items.set(key, a)
  }
  const list = [...items.values()]
  return list.length === 1 ? list[0] : ['set', list]
}

function wireItems(v: unknown): WireAtom[] {
  if (v === undefined) return []
  if (Array.isArray(v) && v[0] === 'set') return v[1] as WireAtom[]
  return [v as WireAtom]
}

function wirePairs(v: unknown): [WireAtom, WireAtom][] {
  return Array.isArray(v) && v[0] === 'map' ? (v[1] as [WireAtom, WireAtom][]) : []
}

const atomKey = (a: WireAtom): string => JSON.stringify(a)
