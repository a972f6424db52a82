// Pod IPAM state on disk, like CNI's host-local plugin: per node subnet, which
// address belongs to which pod. Callers hold the cluster lock around
// load -> allocate/release -> save, which is what makes concurrent creation safe.
import { KubewireError } from '../errors.ts'
import { readJsonFile, writeJsonFile } from '../util/json-file.ts'
import { allocateAddress, type AllocationTable, releaseAddress, validateTable } from './address-pool.ts'
import { parseCidr } from './cidr.ts'

interface IpamDocument {
  version: 1
  subnets: Record<string, AllocationTable>
}

export class IpamFile {
  private constructor(
    readonly path: string,
    private readonly doc: IpamDocument,
  ) {}

  static load(path: string): IpamFile {
    const doc = readJsonFile<IpamDocument>(path) ?? { version: 1, subnets: {} }
    if (doc.version !== 1 || typeof doc.subnets !== 'object') {
      throw new KubewireError('EIPAMCORRUPT', `${path}: not a kubewire IPAM file (version 1)`)
    }
    for (const [subnet, table] of Object.entries(doc.subnets)) validateTable(parseCidr(subnet), table)
    return new IpamFile(path, doc)
  }

  allocate(subnet: string, owner: string): string {
    const table = (this.doc.subnets[subnet] ??= {})
    return allocateAddress(parseCidr(subnet), table, owner)
  }

  /** Free the owner's address in whichever subnet it is. */
  release(owner: string): string | undefined {
    for (const table of Object.values(this.doc.subnets)) {
      const ip = releaseAddress(table, owner)
      if (ip) return ip
    }
    return undefined
  }

  allocations(subnet: string): Readonly<AllocationTable> {
    return this.doc.subnets[subnet] ?? {}
  }

  save(): void {
    writeJsonFile(this.path, this.doc)
  }
}
