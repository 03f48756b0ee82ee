// Open vSwitch without ovs-vsctl: the OVSDB client, the verbs, the private service.
export {
  type MonitorOptions,
  type MonitorRequest,
  type Operation,
  type OperationResult,
  OvsdbClient,
  type OvsdbConnectOptions,
  OvsdbMonitor,
  type Row,
  type RowChange,
  SYSTEM_DB_SOCKET,
} from './client.js'
export type { Atom, BaseType, ColumnType, DatabaseSchema, Datum, TableSchema } from './datum.js'
export type { OffloadChange } from './offload.js'
export {
  type AddBridgeOptions,
  type AddPortOptions,
  type AddPortResult,
  Ovs,
  type OvsInterface,
  type OvsStartOptions,
  type OvsTable,
  type PortType,
  type ReadOptions,
  type SetPortOptions,
  type WriteOptions,
} from './ovs.js'
export { type OvsDaemon, OvsService, ovsInstalled, type ServiceOptions } from './service.js'
export type { OvsShow, OvsShowBridge, OvsShowInterface, OvsShowPort } from './show.js'
