import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../local/ports';
import { ensureKeyPair } from '../../shared/auth/keys';
import { loadPublicJwks } from '../../shared/auth/public-keys';
import { load, row } from '../helpers/load-cli';

/**
 * The client contract, checked against a scripted API on this machine: some votes get a
 * 503 first (retried with the same Idempotency-Key), some a 409 (counted by code, not
 * retried); results and the audit log report every 202 as finalized.
 */
describe('load generator against a scripted API', () => {
  test('retries 503s with the same Idempotency-Key and reports other answers by code', async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'qv-load-fake-'));
    ensureKeyPair({ keyDir });
    const id = 'elfake00001';
    const election = (status: string) => ({
      id,
      title: 't',
      options: [
        { id: 'a', label: 'A' },
        { id: 'b', label: 'B' },
      ],
      status,
      partitions: 1,
      restricted: false,
    });
    const keysBySub = new Map<string, Set<string>>();
    const attempts = new Map<string, number>();
    const voteIdByKey = new Map<string, string>();
    const decided: { voteId: string; at: number }[] = [];
    const unexpected: string[] = [];
    let seq = 0;
    const send = (
      res: ServerResponse,
      status: number,
      body: unknown,
      headers: Record<string, string> = {},
    ) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
        if (route === 'GET /.well-known/jwks.json') return send(res, 200, loadPublicJwks({ keyDir }));
        if (route === 'POST /elections') return send(res, 201, election('draft'));
        if (route === `POST /elections/${id}/open`) return send(res, 200, election('open'));
        if (route === `GET /elections/${id}/results`) {
          return send(res, 200, { electionId: id, finalized: decided.length, rejected: 0, pending: 0 });
        }
        if (route === `GET /elections/${id}/audit`) {
          const entries = decided.map((d) => ({
            partition: 0,
            voteId: d.voteId,
            outcome: 'counted',
            finalizedAt: new Date(d.at).toISOString(),
          }));
          return send(res, 200, { electionId: id, partitions: 1, entries, nextCursor: null });
        }
        if (route === `POST /elections/${id}/votes`) {
          const token = (req.headers['authorization'] ?? '').replace(/^Bearer /, '');
          const sub = String(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sub);
          const key = String(req.headers['idempotency-key']);
          if (!keysBySub.has(sub)) keysBySub.set(sub, new Set());
          keysBySub.get(sub)!.add(key);
          const n = (attempts.get(key) ?? 0) + 1;
          attempts.set(key, n);
          const i = Number(sub.split('-').pop());
          if (i % 4 === 1 && n === 1) {
            return send(res, 503, { error: { code: 'unavailable', message: 'x' } }, { 'retry-after': '1' });
          }
          if (i % 10 === 7) return send(res, 409, { error: { code: 'already_voted', message: 'x' } });
          let voteId = voteIdByKey.get(key);
          if (!voteId) {
            voteId = `${id}.0.${Date.now()}-${seq++}`;
            voteIdByKey.set(key, voteId);
            decided.push({ voteId, at: Date.now() + 5 });
          }
          return send(res, 202, { voteId, status: 'pending', receipt: 'r'.repeat(64) });
        }
        unexpected.push(route);
        send(res, 404, { error: { code: 'not_found', message: route } });
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    try {
      const r = await load(
        [
          '--voters',
          '20',
          '--rate',
          '40',
          '--duration',
          '5',
          '--url',
          `http://127.0.0.1:${port}`,
          '--key-dir',
          keyDir,
        ],
        {},
        60000,
      );
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
      // Voters 1, 5, 9, 13, 17 get a 503 first; 7 and 17 then a 409.
      expect(row(r.stdout, 'sent')).toBe(20);
      expect(row(r.stdout, 'accepted (202)')).toBe(18);
      expect(row(r.stdout, 'finalized (counted)')).toBe(18);
      expect(row(r.stdout, 'errors')).toBe(2);
      expect(row(r.stdout, '409 already_voted')).toBe(2);
      expect(row(r.stdout, 'retries')).toBe(5);
      expect(row(r.stdout, '503 unavailable')).toBe(5);
      expect(unexpected).toEqual([]);
      expect(keysBySub.size).toBe(20);
      for (const keys of keysBySub.values()) expect(keys.size).toBe(1);
      const retried = [...attempts.values()].filter((n) => n === 2).length;
      expect(retried).toBe(5);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(keyDir, { recursive: true, force: true });
    }
  }, 90000);
});
