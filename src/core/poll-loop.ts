/**
 * A background worker's loop: runs `round` until stopped, again at once after a round
 * that found work, and otherwise waits `idleMs`, or less when woken (`wake`). A wake
 * while a round runs counts too: the round may have missed what it was woken for. A
 * round that fails is reported and the loop goes on.
 */
export class PollLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private waking: (() => void) | undefined;
  private woken = false;

  constructor(
    /** One round; true when it found work (the next round follows at once). */
    private readonly round: () => Promise<boolean>,
    private readonly idleMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Whether the loop is meant to be running (false once `stop` is called). */
  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.woken = false;
        let busy = false;
        try {
          busy = await this.round();
        } catch (error) {
          this.onError(error);
        }
        if (busy || this.woken || !this.running) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.idleMs);
          this.waking = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.waking = undefined;
      }
    })();
  }

  /** Ends the wait between rounds now (or, during a round, skips the next wait). */
  wake(): void {
    this.woken = true;
    this.waking?.();
  }

  /** Stops after the round in flight, and waits for it. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }
}
