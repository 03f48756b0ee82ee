// Open vSwitch without ovs-vsctl: the OVSDB client, the verbs, the private service.
export { OvsdbClient, OvsdbMonitor, SYSTEM_DB_SOCKET, type Operation, type OperationResult, type Row, type RowChange, type MonitorRequest, type MonitorOptions, type OvsdbConnectOptions } from './client.js'
export { Ovs, type AddBridgeOptions, type AddPortOptions, type AddPortResult, type SetPortOptions, type WriteOptions, type ReadOptions, type OvsInterface, type OvsStartOptions, type OvsTable, type PortType } from './ovs.js'
export type { OvsShow, OvsShowBridge, OvsShowPort, OvsShowInterface } from './show.js'
export { OvsService, ovsInstalled, type OvsDaemon, type ServiceOptions } from './service.js'
export type { DatabaseSchema, TableSchema, ColumnType, BaseType, Datum, Atom } from './datum.js'
export type { OffloadChange } from './offload.js'
