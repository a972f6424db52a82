// The add-ons `up` applies once the cluster serves:
// - the cluster DNS, deployed the way kubeadm deploys CoreDNS: a Deployment
//   (`kube-dns`, label k8s-app: kube-dns) in kube-system of the built-in image
//   `kubewire/dns` (control/dns/main.ts) with dnsPolicy Default and a
//   readiness probe on :8181/ready, behind the Service `kube-dns` at the
//   service range's .10 (10.96.0.10), ports dns 53/UDP and dns-tcp 53/TCP.
//   kube-system itself is made by the API server at start. Names outside the
//   cluster domain are never forwarded: the Deployment names no upstream
//   (add `--upstream=IP[:PORT]` to its args to allow it, for the pod and node
//   ranges only);
// - the ingress controller, deployed the way ingress-nginx is — an
//   IngressClass (the cluster's default), a namespace of its own, a
//   one-replica Deployment of the built-in image `kubewire/ingress`
//   (dataplane/runtimes/ingress.mjs) with a readiness probe on its /healthz,
//   and a LoadBalancer Service in front of it, whose address the controller
//   copies into every Ingress's status.
// Plain objects in apply order; applying them is the caller's (`up`).
import { addressAt, parseCidr } from '../../dataplane/ipam/cidr.ts'
import type { AddressingInput } from '../../dataplane/ipam/addressing-plan.ts'
import type { KubeObject } from '../client/api-client.ts'

export const DNS_NAMESPACE = 'kube-system'
/** The DNS Service's and Deployment's name (the Service's is what every cluster calls it). */
export const DNS_SERVICE = 'kube-dns'
export const DNS_IMAGE = 'kubewire/dns'
export const CLUSTER_DOMAIN = 'cluster.local'
export const DNS_READY_PORT = 8181
export const DNS_HEALTH_PORT = 8080
export const DNS_METRICS_PORT = 9153

/** The cluster DNS Service's address: the service range's .10 (10.96.0.10), as kubeadm reserves it. */
export function clusterDnsIp(serviceCidr: string): string {
  return addressAt(parseCidr(serviceCidr, 'service CIDR'), 10)
}

/** The cluster DNS add-on's objects, in the order to apply them (the Service first: it claims .10 before anything else may). */
export function dnsAddonObjects(addressing: Pick<AddressingInput, 'serviceCidr' | 'clusterCidr' | 'underlayCidr'>): KubeObject[] {
  const labels = { 'k8s-app': DNS_SERVICE }
  const ip = clusterDnsIp(addressing.serviceCidr)
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: DNS_SERVICE, namespace: DNS_NAMESPACE, labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'kubewire-dns' } },
      spec: {
        selector: labels,
        clusterIP: ip,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: DNS_METRICS_PORT, protocol: 'TCP', targetPort: DNS_METRICS_PORT },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: DNS_SERVICE, namespace: DNS_NAMESPACE, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels },
          spec: {
            // Like CoreDNS: the DNS server's own resolver is the node's, not itself.
            dnsPolicy: 'Default',
            terminationGracePeriodSeconds: 10,
            containers: [
              {
                name: 'dns',
                image: DNS_IMAGE,
                args: [
                  `--domain=${CLUSTER_DOMAIN}`,
                  `--nameserver-ip=${ip}`,
                  `--allowed-sources=${addressing.clusterCidr},${addressing.underlayCidr}`,
                ],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: DNS_METRICS_PORT, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: DNS_READY_PORT }, periodSeconds: 1, failureThreshold: 3 },
                livenessProbe: {
                  httpGet: { path: '/health', port: DNS_HEALTH_PORT }, initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5,
                },
              },
            ],
          },
        },
      },
    },
  ]
}

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
