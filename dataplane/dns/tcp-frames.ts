// DNS over TCP frames: each message is preceded by its length (2 bytes, big
// endian), several messages per connection (RFC 1035 4.2.2, RFC 7766).
//
// Why a class: a message may arrive split across any number of chunks, and a
// hostile client may send it one byte at a time; whole frames inside a chunk
// are handed out as views without copying, a split one is gathered in a
// buffer of exactly its length, so the work per byte stays constant.

export class FrameReader {
  private frame: Buffer | null = null
  private filled = 0
  /** The first length byte, when a chunk ended between the two. */
  private high = -1

  /** Feed a chunk; `onFrame` gets each complete message (a view, valid during the call). */
  push(chunk: Buffer, onFrame: (msg: Buffer) => void): void {
    let i = 0
    const n = chunk.length
    while (i < n) {
      if (this.frame === null) {
        let length: number
        if (this.high >= 0) {
          length = (this.high << 8) | chunk[i++]!
          this.high = -1
        } else if (n - i >= 2) {
          length = (chunk[i]! << 8) | chunk[i + 1]!
          i += 2
        } else {
          this.high = chunk[i++]!
          continue
        }
        if (n - i >= length) {
          onFrame(chunk.subarray(i, i + length))
          i += length
          continue
        }
        this.frame = Buffer.allocUnsafe(length)
        this.filled = 0
      }
      const take = Math.min(this.frame.length - this.filled, n - i)
      chunk.copy(this.frame, this.filled, i, i + take)
      this.filled += take
      i += take
      if (this.filled === this.frame.length) {
        const frame = this.frame
        this.frame = null
        onFrame(frame)
      }
    }
  }

  /** Bytes of an incomplete message held. */
  get buffered(): number {
    return (this.frame ? this.filled + 2 : 0) + (this.high >= 0 ? 1 : 0)
  }
}
