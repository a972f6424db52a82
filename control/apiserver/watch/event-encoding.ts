// JSON for objects and watch events, computed once per stored object.
//
// Why: stored objects are deep-frozen and shared, so the text of one never
// changes. Fifty watchers of one pod event, or a list right after a watch,
// then serialize it once, not fifty times.

const texts = new WeakMap<object, string>()

/** JSON.stringify, remembered for frozen objects. */
export function objectJson(object: object): string {
  if (!Object.isFrozen(object)) return JSON.stringify(object)
  let text = texts.get(object)
  if (text === undefined) {
    text = JSON.stringify(object)
    texts.set(object, text)
  }
  return text
}

/** One line of a watch stream: `{"type":"ADDED","object":{...}}\n`. */
export function watchEventLine(type: string, object: object): string {
  return `{"type":"${type}","object":${objectJson(object)}}\n`
}

/** A list body whose items reuse their remembered JSON. */
export function listJson(head: { apiVersion: string; kind: string; metadata: object }, items: readonly object[]): string {
  let out = `{"kind":${JSON.stringify(head.kind)},"apiVersion":${JSON.stringify(head.apiVersion)},"metadata":${JSON.stringify(head.metadata)},"items":[`
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    out += objectJson(items[i] as object)
  }
  return out + ']}'
}
