// Endpoints (core/v1): the Endpoints controller's view of which pod addresses
// back a Service. Stored as given; only metadata is validated.

import { defineResource } from '../resource-definition.ts'

export const endpoints = defineResource({
  group: '',
  version: 'v1',
  resource: 'endpoints',
  singular: 'endpoints',
  kind: 'Endpoints',
  namespaced: true,
  shortNames: ['ep'],
})
