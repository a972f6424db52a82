// Which links a namespace has, read once per namespace with `ip -j link show`,
// so creates can skip what exists (ensure, don't add) and deletes can treat
// "not found" as done.
import { ipJson } from '../exec/ip.ts'

interface IpLink {
  ifname: string
}

export async function linkNames(netns: string | null): Promise<Set<string>> {
  const links = await ipJson<IpLink[]>(netns, ['link', 'show'])
  return new Set(links.map(l => l.ifname))
}
