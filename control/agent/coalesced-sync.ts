// One sync at a time, however many changes ask for one: a request while a
// sync runs makes exactly one more run after it (the node agent's roles sync
// from their caches, so the last run sees every change). A failed run is
// retried after a pause; requests made meanwhile fold into that retry.
export class CoalescedSync {
  private running = false
  private pending = false

  constructor(
    private readonly run: () => Promise<void>,
    private readonly onError: (e: Error) => void,
    private readonly retryMs = 1000,
  ) {}

  request(): void {
    if (this.running) {
      this.pending = true
      return
    }
    this.running = true
    void this.loop()
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.pending = false
        try {
          await this.run()
        } catch (e) {
          this.onError(e as Error)
          this.pending = true
          await new Promise(r => setTimeout(r, this.retryMs))
        }
      } while (this.pending)
    } finally {
      this.running = false
    }
  }
}
