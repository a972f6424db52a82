// The parts of a Pod the agent reads, typed. Objects come from the API as
// Kubernetes JSON; these interfaces name only what the kubelet role uses.
import type { KubeObject } from '../client/api-client.ts'
import type { ProbeTiming } from '../../dataplane/probes/probe-tracker.ts'
import type { ProbeAction } from '../../dataplane/probes/probe-runner.ts'

export interface EnvVar {
  name: string
  value?: string
  valueFrom?: {
    fieldRef?: { fieldPath: string }
    configMapKeyRef?: { name: string; key: string; optional?: boolean }
  }
}

export interface ContainerPort {
  name?: string
  containerPort: number
  protocol?: 'TCP' | 'UDP' | 'SCTP'
}

export interface VolumeMount {
  name: string
  mountPath: string
  readOnly?: boolean
  subPath?: string
}

export type Probe = ProbeTiming & {
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: 'HTTP' | 'HTTPS'; httpHeaders?: { name: string; value: string }[] }
  tcpSocket?: { port: number | string; host?: string }
  exec?: { command: string[] }
}

export interface ContainerSpec {
  name: string
  image: string
  command?: string[]
  args?: string[]
  workingDir?: string
  env?: EnvVar[]
  ports?: ContainerPort[]
  volumeMounts?: VolumeMount[]
  livenessProbe?: Probe
  readinessProbe?: Probe
  startupProbe?: Probe
}

export interface Volume {
  name: string
  emptyDir?: Record<string, unknown>
  hostPath?: { path: string; type?: string }
  configMap?: { name: string; items?: { key: string; path: string }[]; optional?: boolean }
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean }
}

export interface PodSpec {
  nodeName?: string
  restartPolicy?: 'Always' | 'OnFailure' | 'Never'
  terminationGracePeriodSeconds?: number
  hostname?: string
  subdomain?: string
  initContainers?: ContainerSpec[]
  containers: ContainerSpec[]
  volumes?: Volume[]
  dnsPolicy?: string
}

export interface Pod extends KubeObject {
  spec: PodSpec
  status?: Record<string, unknown> & { conditions?: import('./pod-status.ts').PodCondition[] }
}

/** A probe's port by number or by the container's port name. */
export function resolvePort(port: number | string, container: ContainerSpec): number | undefined {
  if (typeof port === 'number') return port
  const byName = container.ports?.find(p => p.name === port)
  if (byName) return byName.containerPort
  const n = Number(port)
  return Number.isInteger(n) ? n : undefined
}

/** The probe's action with its port resolved, or undefined if the port cannot be. */
export function probeAction(probe: Probe, container: ContainerSpec): ProbeAction | undefined {
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port, container)
    return port === undefined ? undefined : { httpGet: { ...probe.httpGet, port } }
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, container)
    return port === undefined ? undefined : { tcpSocket: { ...probe.tcpSocket, port } }
  }
  if (probe.exec) return { exec: probe.exec }
  return undefined
}
