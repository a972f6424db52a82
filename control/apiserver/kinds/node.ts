// Nodes (core/v1, cluster-scoped): the node agent registers its node with a
// status (capacity, addresses, conditions) and keeps it current through the
// status subresource, as the kubelet does.

import { defineResource } from '../resource-definition.ts'
import { isRecord, recordAt } from './json-fields.ts'

export const nodes = defineResource({
  group: '',
  version: 'v1',
  resource: 'nodes',
  kind: 'Node',
  namespaced: false,
  shortNames: ['no'],
  subresources: { status: true },
  hooks: {
    defaults(object) {
      // SetDefaults_NodeStatus: allocatable defaults to capacity.
      const status = object.status
      const capacity = recordAt(status, 'capacity')
      if (isRecord(status) && capacity !== undefined && status.allocatable === undefined) status.allocatable = { ...capacity }
    },
  },
})
