// The ovs-vsctl commands that stand for a topology's Open vSwitch steps, for printing and
// for the shell script (what ovs.addBridge / ovs.addPort do over OVSDB).

/** `ovs-vsctl add-br NAME -- set bridge NAME datapath_type=netdev` (this kernel family often lacks the openvswitch datapath). */
export const ovsBridgeCommand = (name: string): string => `ovs-vsctl add-br ${name} -- set bridge ${name} datapath_type=netdev`

/** `ovs-vsctl add-port SWITCH PORT`. */
export const ovsPortCommand = (sw: string, port: string, vlans?: { readonly pvid?: number; readonly tagged?: readonly number[] }): string =>
  `ovs-vsctl add-port ${sw} ${port}${vlans?.pvid !== undefined ? ` tag=${vlans.pvid}` : ''}${vlans?.tagged?.length ? ` trunks=${vlans.tagged.join(',')}` : ''}`
