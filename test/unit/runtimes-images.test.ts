import t from 'tap'
import { imageName, resolveImage } from '../../dataplane/runtimes/images.ts'

t.test('image short names', async t => {
  for (const [image, name] of [
    ['nginx', 'nginx'],
    ['nginx:1.27', 'nginx'],
    ['docker.io/library/nginx:latest', 'nginx'],
    ['registry.k8s.io/e2e-test-images/agnhost:2.53', 'agnhost'],
    ['registry.k8s.io/pause:3.10', 'pause'],
    ['busybox@sha256:abc', 'busybox'],
    ['localhost:5000/team/app:v1', 'app'],
  ]) t.equal(imageName(image as string), name, String(image))
})

t.test('command and args, as Kubernetes overrides entrypoint and cmd', async t => {
  t.same(resolveImage({ image: 'anything', command: ['sleep'], args: ['5'] }, 'node'), { argv: ['sleep', '5'] })
  t.same(resolveImage({ image: 'busybox' }, 'node'), { argv: ['sh'] }, 'busybox runs sh by default')
  t.same(resolveImage({ image: 'busybox', args: ['echo', 'hi'] }, 'node'), { argv: ['echo', 'hi'] }, 'args replace the default command')
  t.same(resolveImage({ image: 'registry.k8s.io/pause:3.10' }, 'node'), { argv: ['sleep', 'infinity'] })
  const agn = resolveImage({ image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'] }, 'node')
  t.match(agn, { argv: ['node', '--input-type=module', '-e', /agnhost/, '--', 'netexec', '--http-port=8080'] })
  t.match(resolveImage({ image: 'nginx:1.27' }, 'node'), { argv: ['node', '--input-type=module', '-e', /Welcome to nginx!/, '--'] })
})

t.test('an unknown image without a command fails with a clear reason', async t => {
  const r = resolveImage({ image: 'example.com/shop/cart:7' }, 'node')
  t.match(r, { error: { reason: 'ErrImagePull', message: /no built-in runtime for image "example\.com\/shop\/cart:7".*nginx, agnhost, pause, busybox/ } })
})
