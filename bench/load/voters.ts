import type { Progress } from './progress';
import { bar } from './progress';
import { RunError } from './errors';
import type { Vote } from './submitters';

/** Voter tokens minted at once. */
const MINT_BATCH = 256;

/**
 * The run's synthetic voters, one token each (signed with the stack's key), each
 * assigned an option in turn. Signing runs off the main thread: batches keep both
 * cores busy (about 2x faster than one at a time).
 */
export async function mintVoters(a: {
  planned: number;
  runId: string;
  options: string[];
  mint: (sub: string) => Promise<string>;
  progress: Progress;
  interrupted: () => boolean;
}): Promise<Vote[]> {
  const { planned, runId, progress } = a;
  const votes: Vote[] = new Array(planned);
  for (let start = 0; start < planned; start += MINT_BATCH) {
    const end = Math.min(planned, start + MINT_BATCH);
    await Promise.all(
      Array.from({ length: end - start }, async (_, k) => {
        const i = start + k;
        const sub = `load-${runId}-${i}`;
        votes[i] = {
          i,
          sub,
          token: await a.mint(sub),
          optionId: a.options[i % a.options.length]!,
          key: `load-${runId}-${i}`,
          sentAt: 0,
          answeredAt: 0,
          attempts: 0,
          result: '',
        };
      }),
    );
    if (planned > MINT_BATCH)
      progress.update(`minting voter tokens [${bar(end / planned)}] ${end}/${planned}`);
    if (a.interrupted()) throw new RunError('interrupted while minting tokens');
  }
  return votes;
}
