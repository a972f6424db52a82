// Object name rules (apimachinery util/validation): which strings may name
// which kind, with kube-apiserver's exact texts.
//
// Why: `kubectl create deployment Web` must fail the way a real cluster says
// it, and names become DNS names and Linux identifiers further down the line
// (pod hostnames, Service DNS records), so the rules are not cosmetic.

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`
const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?'

const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`)
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`)
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`)

const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"

const maxLenError = (n: number): string => `must be no more than ${n} bytes`

// Kubernetes' RegexError, its double space before "or" included.
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`
  return `${msg} (e.g. ${examples.map(e => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`
}

/** IsDNS1123Label: at most 63 characters, `[a-z0-9]([-a-z0-9]*[a-z0-9])?`. */
export function dns1123LabelErrors(value: string): string[] {
  const errs: string[] = []
  if (value.length > 63) errs.push(maxLenError(63))
  if (!dns1123LabelRe.test(value)) errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'))
  return errs
}

/** IsDNS1123Subdomain: at most 253 characters, dot-separated labels. */
export function dns1123SubdomainErrors(value: string): string[] {
  const errs: string[] = []
  if (value.length > 253) errs.push(maxLenError(253))
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, 'example.com'))
  return errs
}

/** IsDNS1035Label: like a DNS-1123 label but starting with a letter (Service names). */
export function dns1035LabelErrors(value: string): string[] {
  const errs: string[] = []
  if (value.length > 63) errs.push(maxLenError(63))
  if (!dns1035LabelRe.test(value)) errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, 'my-name', 'abc-123'))
  return errs
}

/** Which rule a kind's names follow (path segment names are the loosest: Events). */
export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label' | 'path-segment'

/** ValidatePathSegmentName: anything that can stand in a URL path segment. */
export function pathSegmentErrors(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`]
  for (const bad of ['/', '%']) if (value.includes(bad)) return [`may not contain '${bad}'`]
  return []
}

export function nameErrors(rule: NameRule, value: string): string[] {
  switch (rule) {
    case 'dns1123-subdomain':
      return dns1123SubdomainErrors(value)
    case 'dns1123-label':
      return dns1123LabelErrors(value)
    case 'dns1035-label':
      return dns1035LabelErrors(value)
    case 'path-segment':
      return pathSegmentErrors(value)
  }
}
