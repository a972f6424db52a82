// Events leave the agent as the kubelet's event broadcaster sends them: put on
// a queue and written one at a time, never on a pod's own path. A node
// starting 33 pods at once records ~100 Events (Pulled, Created, Started);
// written all at once they compete at the API server with the pods' status
// writes, which are what makes a pod Ready. The queue is bounded like
// client-go's (1000): when full, a new Event is dropped and counted, as there.
export const MAX_QUEUED_EVENTS = 1000

export class EventQueue<E> {
  private readonly queue: E[] = []
  private sending = false
  private dropped = 0

  constructor(
    private readonly send: (event: E) => Promise<void>,
    private readonly onDrop: (dropped: number) => void = () => {},
    private readonly limit = MAX_QUEUED_EVENTS,
  ) {}

  /** Queue an Event; resolves nothing (the sender logs its own failures). */
  push(event: E): void {
    if (this.queue.length >= this.limit) {
      this.onDrop(++this.dropped)
      return
    }
    this.queue.push(event)
    if (!this.sending) void this.drain()
  }

  get length(): number {
    return this.queue.length
  }

  private async drain(): Promise<void> {
    this.sending = true
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        await this.send(next).catch(() => {})
      }
    } finally {
      this.sending = false
    }
  }
}
