// The add-ons `up` applies once the cluster serves: for now the ingress
// controller, deployed the way ingress-nginx is — an IngressClass (the
// cluster's default), a namespace of its own, a one-replica Deployment of the
// built-in image `kubewire/ingress` (dataplane/runtimes/ingress.mjs) with a
// readiness probe on its /healthz, and a LoadBalancer Service in front of it,
// whose address the controller copies into every Ingress's status.
// Plain objects in apply order; applying them is the caller's (`up`).
import type { KubeObject } from '../client/api-client.ts'

export const INGRESS_NAMESPACE = 'kubewire-ingress'
export const INGRESS_CLASS = 'kubewire'
export const INGRESS_CONTROLLER_CLASS = 'kubewire.dev/ingress-controller'
export const INGRESS_IMAGE = 'kubewire/ingress'
/** The Deployment's and the Service's name. */
export const INGRESS_CONTROLLER = 'ingress-controller'
const HEALTHZ_PORT = 10254

/** The ingress add-on's objects, in the order to apply them. */
export function ingressAddonObjects(): KubeObject[] {
  const labels = { 'app.kubernetes.io/name': 'kubewire-ingress', 'app.kubernetes.io/component': 'controller' }
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: INGRESS_NAMESPACE, labels: { 'app.kubernetes.io/name': 'kubewire-ingress' } } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: INGRESS_CLASS, labels, annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: INGRESS_CONTROLLER_CLASS },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: INGRESS_CONTROLLER, namespace: INGRESS_NAMESPACE, labels },
      spec: { type: 'LoadBalancer', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: INGRESS_CONTROLLER, namespace: INGRESS_NAMESPACE, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 10,
            containers: [
              {
                name: 'controller',
                image: INGRESS_IMAGE,
                args: [
                  '--http-port=80',
                  `--healthz-port=${HEALTHZ_PORT}`,
                  `--ingress-class=${INGRESS_CLASS}`,
                  `--controller-class=${INGRESS_CONTROLLER_CLASS}`,
                  `--publish-service=${INGRESS_NAMESPACE}/${INGRESS_CONTROLLER}`,
                ],
                ports: [
                  { name: 'http', containerPort: 80, protocol: 'TCP' },
                  { name: 'healthz', containerPort: HEALTHZ_PORT, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, periodSeconds: 2, failureThreshold: 3 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 5 },
              },
            ],
          },
        },
      },
    },
  ]
}
