/**
 * One load run: check the key, prepare the election, mint the voters' tokens, send on
 * a paced schedule (retrying 503s, timeouts and network errors with the same
 * Idempotency-Key), wait until every accepted vote is decided, then print and write
 * the figures.
 */
import { randomBytes } from 'node:crypto';
import { mintToken } from '../../shared/auth/tokens';
import { loadConfig } from '../../shared/config';
import { sleep } from '../common';
import { RunError } from './errors';
import { Http, errName } from './http-client';
import type { LoadOptions } from './options';
import { Progress, bar } from './progress';
import { writeOutputs } from './outputs';
import { checkKey, prepareElection, readAudit, readResults } from './stack-reads';
import { type Vote, httpSubmitter, invokeSubmitter } from './submitters';
import { mintVoters } from './voters';
import { fmtS, formatSummary, pad, summarize } from './summary';

export async function run(o: LoadOptions): Promise<number> {
  const err = process.stderr;
  const progress = new Progress(err, Math.min(10_000, Math.max(1000, (o.duration * 1000) / 20)));
  const http = new Http(o.url, o.maxInFlight + 8);
  const runId = randomBytes(4).toString('hex');
  const cfg = loadConfig();

  // Ctrl-C: 1 stops sending, 2 skips the wait, 3 quits.
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts === 1)
      progress.log('interrupted: no more sends; waiting for accepted votes (Ctrl-C again to skip)');
    if (interrupts === 2) progress.log('interrupted again: skipping the wait (Ctrl-C again to quit)');
    if (interrupts >= 3) process.exit(130);
  });

  const key = await checkKey(o, http);
  const signer = { key, issuer: cfg.jwt.issuer, audience: cfg.jwt.audience };
  const ttlS = Math.ceil(o.duration + o.retryForS + o.finalizeTimeoutS + 3600);
  const admin = await mintToken(
    { sub: `load-admin-${runId}`, role: 'admin', username: 'load-generator' },
    { ...signer, ttlS },
  );
  const election = await prepareElection(o, http, admin, runId);
  progress.log(
    `${o.election ? 'reusing' : 'created and opened'} election ${election.id} ` +
      `(${election.options.length} options: ${election.options.join(', ')}) at ${o.url}`,
  );
  const baseline = (await readResults(http, admin, election.id)) ?? { decided: 0, finalized: 0, rejected: 0 };

  // Each voter votes once; the schedule's slots within the duration cap how many vote.
  const planned = Math.min(o.voters, Math.ceil(o.rate * o.duration));
  const mintStarted = Date.now();
  const votes = await mintVoters({
    planned,
    runId,
    options: election.options,
    mint: (sub) => mintToken({ sub, role: 'voter' }, { ...signer, ttlS }),
    progress,
    interrupted: () => interrupts > 0,
  });
  progress.finish();
  progress.log(
    `minted ${planned} voter tokens with the local key (${fmtS(Date.now() - mintStarted)}); ` +
      `sending ${planned} votes at ${o.rate}/s via ${o.via === 'http' ? o.url : `${o.lambdaUrl} (${o.functionName})`}`,
  );
  if (o.via === 'invoke') {
    try {
      await new Http(o.lambdaUrl, 1).call('GET', '/', {}, undefined, 5000);
    } catch (e) {
      throw new RunError(`cannot reach the Lambda invoke API at ${o.lambdaUrl} (${errName(e)})`);
    }
  }
  const submit = o.via === 'http' ? httpSubmitter(http) : invokeSubmitter(o);

  // ---- live state
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let inFlight = 0;
  let decided = 0;
  let finalizedNow = 0;
  const errors: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const byId = new Map<string, Vote>();
  const inFlightSamples: [number, number][] = [];
  const samples: [number, number, number][] = [];
  let phase: 'sending' | 'draining' | 'finalizing' | 'checking' = 'sending';
  let stopRetrying = false;
  let slotWaiter: (() => void) | undefined;

  const t0 = Date.now();
  const elapsed = (): number => Date.now() - t0;
  /** Sends per second while sending, finalizations per second afterwards (over the last 2 s). */
  const currentRate = (): number => {
    const now = elapsed();
    const old = samples.find(([t]) => t >= now - 2000);
    if (!old || now - old[0] < 200) return 0;
    const d = phase === 'sending' ? sent - old[1] : finalizedNow - old[2];
    return (d * 1000) / (now - old[0]);
  };
  const line = (): string => {
    const f =
      phase === 'sending'
        ? sent / planned
        : phase === 'draining'
          ? (accepted + failed) / Math.max(1, sent)
          : accepted
            ? decided / accepted
            : 1;
    const rate = `${currentRate().toFixed(1)} ${phase === 'sending' ? 'sent' : 'fin'}/s`;
    // While draining the bar is answers over sends; afterwards decided over accepted.
    return (
      `${phase.padEnd(10)} [${bar(f)}] ${pad(Math.floor(f * 100), 3)}% ${pad(fmtS(elapsed()), 7)}  ` +
      `sent ${sent}/${planned}  acc ${accepted}  fin ${finalizedNow}  ${rate}  err ${failed}  in-flight ${inFlight}`
    );
  };
  const ticker = setInterval(
    () => {
      const now = elapsed();
      samples.push([now, sent, finalizedNow]);
      while (samples.length && samples[0]![0] < now - 5000) samples.shift();
      inFlightSamples.push([now / 1000, inFlight]);
      progress.update(line());
    },
    err.isTTY ? 200 : 250,
  );

  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      const r = await readResults(http, admin, election.id);
      if (r) {
        decided = Math.max(decided, r.decided - baseline.decided);
        finalizedNow = Math.max(finalizedNow, r.finalized - baseline.finalized);
      }
    } finally {
      polling = false;
    }
  };
  const poller = setInterval(() => void poll(), 1000);

  const attemptLoop = async (v: Vote): Promise<void> => {
    const timeoutMs = o.timeoutS * 1000;
    for (;;) {
      v.attempts++;
      let waitMs = Math.min(1000, 100 * 2 ** (v.attempts - 1));
      let retry: string;
      try {
        const a = await submit(election.id, v, timeoutMs);
        if (a.status === 202 && a.voteId) {
          v.result = '202';
          v.voteId = a.voteId;
          break;
        }
        const code = a.code ?? (a.status === 202 ? 'no_vote_id' : 'no_code');
        v.result = a.status ? `${a.status} ${code}` : code;
        if (a.status !== 503) break;
        retry = `503 ${a.code ?? ''}`.trim();
        if (a.retryAfterS) waitMs = Math.min(5000, a.retryAfterS * 1000);
      } catch (e) {
        retry = errName(e);
        v.result = retry;
      }
      if (stopRetrying || Date.now() + waitMs > v.sentAt + o.retryForS * 1000) break;
      retries[retry] = (retries[retry] ?? 0) + 1;
      await sleep(waitMs);
    }
    v.answeredAt = Date.now();
    v.token = ''; // done with it: a long run holds many
    if (v.result === '202') {
      accepted++;
      byId.set(v.voteId!, v);
    } else {
      failed++;
      errors[v.result] = (errors[v.result] ?? 0) + 1;
    }
  };

  // ---- the paced schedule: vote i is due at t0 + i / rate
  const running = new Set<Promise<void>>();
  const deadline = t0 + o.duration * 1000;
  let next = 0;
  let fellBehind = false;
  while (next < planned && interrupts === 0) {
    if (inFlight >= o.maxInFlight) {
      await new Promise<void>((r) => {
        slotWaiter = r;
      });
      continue;
    }
    const due = t0 + (next * 1000) / o.rate;
    const now = Date.now();
    if (due > now) {
      await sleep(Math.min(due - now, 50));
      continue;
    }
    if (now > deadline + 1000) {
      fellBehind = true;
      break;
    }
    const v = votes[next++]!;
    v.sentAt = now;
    sent++;
    inFlight++;
    const p: Promise<void> = attemptLoop(v).finally(() => {
      inFlight--;
      running.delete(p);
      const w = slotWaiter;
      slotWaiter = undefined;
      w?.();
    });
    running.add(p);
  }
  if (fellBehind) {
    progress.log(
      `the duration ended with ${planned - sent} votes unsent: the target could not keep up ` +
        `with ${o.rate}/s at --max-in-flight ${o.maxInFlight}`,
    );
  }
  if (interrupts > 0) stopRetrying = true;
  phase = 'draining';
  while (running.size) await Promise.race(running);
  let sendEnd = t0;
  let lastSentAt = t0;
  for (let i = 0; i < sent; i++) {
    sendEnd = Math.max(sendEnd, votes[i]!.answeredAt);
    lastSentAt = Math.max(lastSentAt, votes[i]!.sentAt);
  }

  // ---- wait (bounded) until every accepted vote is decided
  phase = 'finalizing';
  clearInterval(poller);
  const waitUntil = Date.now() + o.finalizeTimeoutS * 1000;
  while (accepted > 0 && interrupts < 2 && Date.now() < waitUntil) {
    await poll();
    if (decided >= accepted) break;
    await sleep(300);
  }
  phase = 'checking';
  let matched = 0;
  for (;;) {
    try {
      matched = await readAudit(http, admin, election.id, byId);
    } catch (e) {
      progress.log(`could not read the audit log: ${(e as Error).message}`);
    }
    if (matched >= accepted || interrupts >= 2 || Date.now() >= waitUntil) break;
    await sleep(1000);
  }
  clearInterval(ticker);
  finalizedNow = votes.filter((v) => v.outcome === 'counted').length;
  decided = matched;
  progress.update(line(), true);
  progress.finish();
  const endAt = Date.now();

  // ---- figures
  const summary = summarize({
    o,
    electionId: election.id,
    planned,
    sent: votes.slice(0, sent),
    errors,
    retries,
    t0,
    lastSentAt,
    sendEnd,
    endAt,
    interrupted: interrupts > 0,
  });
  const { pending } = summary;
  process.stdout.write(formatSummary(summary, o));

  writeOutputs(o, summary, votes.slice(0, sent), inFlightSamples, t0);
  if (sent > 0 && summary.accepted === 0) {
    err.write('load: no vote was accepted (see the errors above)\n');
    return 1;
  }
  if (pending > 0) {
    err.write(
      `load: ${pending} accepted vote(s) were not decided within --finalize-timeout ${o.finalizeTimeoutS} s\n`,
    );
    return 1;
  }
  return 0;
}
