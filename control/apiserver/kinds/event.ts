// Events (core/v1): what controllers, the scheduler and node agents report
// (`kubectl describe`, `kubectl get events`). Field selectors on
// involvedObject.* come from control/api/field-selector.ts.

import { defineResource } from '../resource-definition.ts'

export const events = defineResource({
  group: '',
  version: 'v1',
  resource: 'events',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
})
