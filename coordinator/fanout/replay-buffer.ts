/** Messages received recently, kept so that a new leader can re-send the handover gap. */
export class ReplayBuffer {
  private items: { at: number; channel: string; text: string }[] = [];

  constructor(private readonly windowMs: number) {}

  push(at: number, channel: string, text: string): void {
    this.items.push({ at, channel, text });
    this.prune(at);
  }

  /** Messages of the last `windowMs`, oldest first. */
  recent(now: number): { channel: string; text: string }[] {
    this.prune(now);
    return this.items.map(({ channel, text }) => ({ channel, text }));
  }

  private prune(now: number): void {
    let i = 0;
    while (i < this.items.length && now - this.items[i]!.at > this.windowMs) i++;
    if (i > 0) this.items.splice(0, i);
    // A burst cannot make this grow without bound.
    if (this.items.length > 10000) this.items.splice(0, this.items.length - 10000);
  }
}
