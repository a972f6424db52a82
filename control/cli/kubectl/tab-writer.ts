// Go's text/tabwriter (with kubectl's RememberWidths extension), the thing that
// lays out both `kubectl get` tables and `kubectl describe` text.
//
// Why a port rather than "pad every column to its widest cell": kubectl's
// layout comes from the tabwriter's column blocks — a column is aligned only
// over consecutive lines that have a cell in it, and a line without tabs ends
// every block. That is why describe's "Controlled By:" aligns differently from
// "Name:", and why `get all` sections are aligned independently. Copying the
// algorithm reproduces those outputs byte for byte.
//
//   get:      new TabWriter({ minWidth: 6, padding: 3, rememberWidths: true })
//   describe: new TabWriter({ minWidth: 0, padding: 2 })
//
// Cells end with '\t'; the text after a line's last tab is not aligned.

export interface TabWriterOptions {
  minWidth: number
  padding: number
  /** Keep each column's widest width across flushes (kubectl -w keeps its columns steady). */
  rememberWidths?: boolean
}

interface Cell {
  text: string
  width: number
}

const widthOf = (text: string): number => [...text].length

export class TabWriter {
  readonly #options: TabWriterOptions
  #pending = ''
  #widths: number[] = []
  #maxWidths: number[] = []

  constructor(options: TabWriterOptions) {
    this.#options = options
  }

  write(text: string): void {
    this.#pending += text
  }

  /** Forgets remembered widths (a new table starts). */
  resetWidths(): void {
    this.#maxWidths = []
  }

  /** Lays out everything written since the last flush. */
  flush(): string {
    const text = this.#pending
    this.#pending = ''
    if (text === '') return ''
    const rawLines = text.split('\n')
    const endsWithNewline = rawLines[rawLines.length - 1] === ''
    if (endsWithNewline) rawLines.pop()
    const lines = rawLines.map(line => line.split('\t').map(t => ({ text: t, width: widthOf(t) })))
    const out: string[] = []
    // A line of one cell flushes the writer in Go (widths restart after it).
    let start = 0
    for (let i = 0; i < lines.length; i++) {
      if ((lines[i] as Cell[]).length === 1 || i === lines.length - 1) {
        const segment = lines.slice(start, i + 1)
        const last = i === lines.length - 1
        this.#widths = []
        this.#format(out, segment, 0, segment.length, last && !endsWithNewline)
        start = i + 1
      }
    }
    return out.join('')
  }

  #format(out: string[], lines: Cell[][], line0: number, line1: number, openEnd: boolean): void {
    const column = this.#widths.length
    const { minWidth, padding } = this.#options
    for (let t = line0; t < line1; t++) {
      if (column >= (lines[t] as Cell[]).length - 1) continue
      this.#writeLines(out, lines, line0, t, openEnd)
      line0 = t
      let width = minWidth
      for (; t < line1; t++) {
        const line = lines[t] as Cell[]
        if (column >= line.length - 1) break
        const w = (line[column] as Cell).width + padding
        if (w > width) width = w
      }
      if (this.#options.rememberWidths) {
        if (this.#maxWidths.length < this.#widths.length) this.#maxWidths.push(...this.#widths.slice(this.#maxWidths.length))
        const remembered = this.#maxWidths[column]
        if (remembered === undefined) this.#maxWidths.push(width)
        else if (remembered > width) width = remembered
        else this.#maxWidths[column] = width
      }
      this.#widths.push(width)
      this.#format(out, lines, line0, t, openEnd)
      this.#widths.pop()
      line0 = t
    }
    this.#writeLines(out, lines, line0, line1, openEnd)
  }

  #writeLines(out: string[], lines: Cell[][], line0: number, line1: number, openEnd: boolean): void {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] as Cell[]
      line.forEach((cell, j) => {
        out.push(cell.text)
        // Go pads every cell that has a column width at this depth (the trailing text included).
        const width = this.#widths[j]
        if (width !== undefined) out.push(' '.repeat(Math.max(0, width - cell.width)))
      })
      if (!(openEnd && i === lines.length - 1)) out.push('\n')
    }
  }
}

/** Lays out `text` in one go (describe). */
export function tabbed(text: string, options: TabWriterOptions = { minWidth: 0, padding: 2 }): string {
  const writer = new TabWriter(options)
  writer.write(text)
  return writer.flush()
}
