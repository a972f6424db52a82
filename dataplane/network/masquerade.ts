// Pod traffic leaving the cluster CIDR is masqueraded to the node's underlay
// address (flannel's --ip-masq, kind's ip-masq-agent). The host then only ever
// sees underlay sources it can answer on-link: without this, a pod reaching the
// host would make the host answer 10.244.x.x through its real default route,
// out of the emulated world.
export function renderMasqueradeTable(table: string, clusterCidr: string, underlayDevice: string): string {
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${clusterCidr} ip daddr != ${clusterCidr} oifname "${underlayDevice}" masquerade`,
    '  }',
    '}',
    '',
  ].join('\n')
}
