// The read API's queries on both metadata databases (embedded SQLite and a real PostgreSQL):
// keyset pages of artifacts by name and push time and of repositories by size and last push,
// both ways, visit every row once in the order a single sort gives (bytewise names: upper case
// before `_` before lower case on both); the audit log filtered and paged; and `berth gc`'s
// sweep followed by the inventory and recorded as a GC run with its report.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { IN_CI } from '../e2e/support/env.js';
import { berthOk } from '../support/cli.js';
import { blob, imageManifest, indexManifest, type Manifest } from '../support/oci-fixtures.js';
import { openMetaDatabase, type MetaDatabase } from '../../src/meta/database.js';
import { appendAudit } from '../../src/auth/audit.js';
import { UpstreamCounters, readUpstreamTotals } from '../../src/proxy/upstream-counters.js';
import type { ArtifactSummary, RepositorySummary } from '../../src/inventory/shapes.js';
import { allPages, push, read, smallImage } from './read-support.js';

const bytewise = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

for (const backend of ['sqlite', 'postgres'] as const) {
  const skip = backend === 'postgres' && !IN_CI && !postgresAvailable() ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false;
  describe(`read API queries (${backend})`, { skip }, () => {
    let reg: TestRegistry;
    let meta: MetaDatabase;
    let env: Record<string, string>;
    /** Top-level artifacts of q/app: digest -> tags. */
    const artifacts = new Map<string, string[]>();
    const children: string[] = [];
    const sizes = new Map<string, number>();
    const api = (path: string) => `${reg.url}/api/v1/${path}`;

    /** Pushes a new image by tag, or by its digest when `reference` is undefined. */
    async function pushImage(name: string, reference: string | undefined, layerBytes = 300): Promise<Manifest> {
      const { manifest, blobs } = smallImage(layerBytes);
      assert.equal(await push(reg.url, name, reference ?? manifest.digest, manifest, blobs), 201);
      return manifest;
    }

    async function tag(name: string, reference: string, m: Manifest): Promise<void> {
      const res = await fetch(`${reg.url}/v2/${name}/manifests/${reference}`, { method: 'PUT', body: m.body, headers: { 'Content-Type': m.mediaType } });
      await res.arrayBuffer();
      assert.equal(res.status, 201);
    }

    before(async () => {
      const pgUrl = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      reg = await startTestRegistry({ storage: 'filesystem', configure: (c) => { if (pgUrl) c.meta = { ...c.meta, postgres: { url: pgUrl } }; } });
      env = { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: reg.root!, REGISTRY_STORAGE_DELETE_ENABLED: 'true', ...(pgUrl ? { REGISTRY_META_POSTGRES_URL: pgUrl } : {}) };
      meta = await openMetaDatabase(pgUrl ? { postgres: { url: pgUrl } } : { sqlite: { path: `${reg.root!}/berth/meta.sqlite` } });
      // Tags whose bytewise order differs from a locale's: upper case, '_', digits, lower case; two tags on one image.
      for (const tags of [['b1'], ['Zeta'], ['_under'], ['a2', 'latest'], ['9nine'], ['A1'], ['mid']]) {
        const m = await pushImage('q/app', tags[0]!);
        for (const t of tags.slice(1)) await tag('q/app', t, m);
        artifacts.set(m.digest, tags);
      }
      for (let i = 0; i < 3; i++) artifacts.set((await pushImage('q/app', undefined)).digest, []);
      const kids = [await pushImage('q/app', undefined, 200), await pushImage('q/app', undefined, 200)];
      children.push(...kids.map((k) => k.digest));
      const index = indexManifest(kids);
      await tag('q/app', 'multi', index);
      artifacts.set(index.digest, ['multi']);
      // Repositories with sizes that tie in pairs, pushed in name order.
      for (const [i, name] of ['q/r-e', 'q/r-a', 'q/r-d', 'q/r-b', 'q/r-c'].entries()) {
        const layer = blob(randomBytes(1000 + 100 * Math.floor(i / 2)));
        const config = blob(Buffer.alloc(50, i % 2));
        const m = imageManifest(config, [layer]);
        assert.equal(await push(reg.url, name, 'v1', m, [config, layer]), 201);
        sizes.set(name, m.body.length + config.size + layer.size);
      }
    });
    after(async () => {
      await meta?.close();
      await reg?.close();
    });

    it('pages artifacts by first tag, bytewise, untagged last by digest, both ways', async () => {
      const key = (d: string) => [...artifacts.get(d)!].sort(bytewise)[0] ?? `~${d}`;
      const expected = [...artifacts.keys()].sort((a, b) => bytewise(key(a), key(b)));
      const asc = await allPages<ArtifactSummary>(api('repositories/q/app/-/artifacts?sort=name&limit=2'), 'ArtifactPage');
      assert.deepEqual(asc.map((a) => a.digest), expected);
      assert.deepEqual(asc[0]!.tags, ['9nine']);
      const desc = await allPages<ArtifactSummary>(api('repositories/q/app/-/artifacts?sort=name&order=desc&limit=3'), 'ArtifactPage');
      assert.deepEqual(desc.map((a) => a.digest), [...expected].reverse());
      const untagged = await allPages<ArtifactSummary>(api('repositories/q/app/-/artifacts?sort=name&tagged=false&limit=2'), 'ArtifactPage');
      assert.deepEqual(untagged.map((a) => a.digest), expected.filter((d) => artifacts.get(d)!.length === 0));
      const all = await allPages<ArtifactSummary>(api('repositories/q/app/-/artifacts?sort=name&all=true&limit=4'), 'ArtifactPage');
      assert.deepEqual(new Set(all.map((a) => a.digest)), new Set([...artifacts.keys(), ...children]));
    });

    it('pages artifacts by push time both ways, ties by digest, each once', async () => {
      for (const order of ['desc', 'asc'] as const) {
        const paged = await allPages<ArtifactSummary>(api(`repositories/q/app/-/artifacts?order=${order}&limit=3`), 'ArtifactPage');
        const one = await read<{ items: ArtifactSummary[] }>(api(`repositories/q/app/-/artifacts?order=${order}&limit=1000`), 'ArtifactPage');
        assert.deepEqual(paged.map((a) => a.digest), one.items.map((a) => a.digest));
        assert.deepEqual(new Set(paged.map((a) => a.digest)), new Set(artifacts.keys()));
        const sign = order === 'desc' ? -1 : 1;
        for (let i = 1; i < paged.length; i++) {
          const [p, c] = [paged[i - 1]!, paged[i]!];
          const byTime = sign * (Date.parse(c.pushedAt!) - Date.parse(p.pushedAt!));
          assert.ok(byTime > 0 || (byTime === 0 && sign * bytewise(c.digest, p.digest) > 0), `${order} at ${i}`);
        }
      }
      const filtered = await allPages<ArtifactSummary>(api('repositories/q/app/-/artifacts?tag=a&limit=1'), 'ArtifactPage');
      assert.deepEqual(new Set(filtered.map((a) => a.digest)), new Set([...artifacts].filter(([, t]) => t.some((x) => /a/i.test(x))).map(([d]) => d)), 'case-insensitive on both databases');
    });

    it('pages repositories by size and by last push both ways, ties by name ascending', async () => {
      const names = [...sizes.keys()];
      for (const order of ['desc', 'asc'] as const) {
        const sign = order === 'desc' ? -1 : 1;
        const bySize = await allPages<RepositorySummary>(api(`repositories?project=q&sort=size&order=${order}&limit=2`), 'RepositoryPage');
        const withApp = [...names, 'q/app'];
        const sizeOf = new Map(bySize.map((r) => [r.name, r.sizeBytes]));
        for (const n of names) assert.equal(sizeOf.get(n), sizes.get(n), n);
        assert.deepEqual(bySize.map((r) => r.name), [...withApp].sort((a, b) => sign * (sizeOf.get(a)! - sizeOf.get(b)!) || bytewise(a, b)));
        const byPush = await allPages<RepositorySummary>(api(`repositories?project=q&sort=lastPush&order=${order}&limit=2`), 'RepositoryPage');
        assert.deepEqual(byPush.map((r) => r.name), [...byPush].sort((a, b) => sign * (Date.parse(a.lastPushAt!) - Date.parse(b.lastPushAt!)) || bytewise(a.name, b.name)).map((r) => r.name));
        assert.equal(new Set(byPush.map((r) => r.name)).size, withApp.length);
      }
    });

    it('pages the audit log filtered by actor, action, repository and time, and exports it as CSV', async () => {
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      for (let i = 0; i < 7; i++) {
        await appendAudit(meta.db, { actor: i % 2 ? 'ann' : 'bob', address: '127.0.0.1', action: 'push', target: i < 4 ? `q/a_b:v${i}` : `q/axb@sha256:${i}` }, new Date(t0 + i * 60_000));
      }
      await appendAudit(meta.db, { actor: '=cmd()', address: '', action: 'user.add', target: 'x,"y"', detail: { password: 'hunter2', admin: true } }, new Date(t0 + 10 * 60_000));
      type Entry = { actor: string; target: string; at: string; detail: Record<string, unknown> };
      const repo = await allPages<Entry>(api('audit/entries?repository=q/a_b&limit=2'), 'AuditPage');
      assert.deepEqual(repo.map((e) => e.target), ['q/a_b:v3', 'q/a_b:v2', 'q/a_b:v1', 'q/a_b:v0'], 'newest first; _ is no wildcard');
      const ann = await allPages<Entry>(api(`audit/entries?actor=ann&action=push&since=${new Date(t0 + 60_000).toISOString()}&until=${new Date(t0 + 5 * 60_000).toISOString()}`), 'AuditPage');
      assert.deepEqual(ann.map((e) => e.target), ['q/a_b:v3', 'q/a_b:v1']);
      const added = await allPages<Entry>(api('audit/entries?action=user.add'), 'AuditPage');
      assert.equal(added[0]!.detail.password, '[redacted]');
      assert.equal(added[0]!.detail.admin, true);
      const res = await fetch(api('audit/entries.csv?action=user.add'));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      const csv = await res.text();
      assert.equal(csv, `at,actor,address,action,target,detail\r\n${new Date(t0 + 10 * 60_000).toISOString()},'=cmd(),,user.add,"x,""y""","{""password"":""[redacted]"",""admin"":true}"\r\n`);
      assert.doesNotMatch(csv, /hunter2/);
    });

    it('pages notification dead letters oldest first, by endpoint', async () => {
      const now = Date.now();
      for (let i = 0; i < 5; i++) {
        const endpoint = i % 2 ? 'hook-b' : 'hook-a';
        await meta.db.insertInto('berth_event_queue').values({
          endpoint, event_id: `e${i}`, seq: i, payload: JSON.stringify({ id: `e${i}`, action: 'push', target: { repository: 'q/app' } }), action: 'push', repository: 'q/app',
          attempts: 3, next_attempt_at: now, created_at: now + i, last_error: 'HTTP 500', dead_at: now + i, claim: null,
        }).execute();
      }
      await meta.db.insertInto('berth_event_queue').values({
        endpoint: 'hook-a', event_id: 'alive', seq: 9, payload: '{}', action: 'push', repository: 'q/app', attempts: 0, next_attempt_at: now, created_at: now, last_error: null, dead_at: null, claim: null,
      }).execute();
      type Letter = { endpoint: string; eventId: string; repository: string | null; attempts: number };
      const all = await allPages<Letter>(api('notifications/deadletters/entries?limit=2'), 'DeadLetterPage');
      assert.deepEqual(all.map((l) => l.eventId), ['e0', 'e1', 'e2', 'e3', 'e4']);
      assert.equal(all[0]!.repository, 'q/app');
      const b = await allPages<Letter>(api('notifications/deadletters/entries?endpoint=hook-b&limit=1'), 'DeadLetterPage');
      assert.deepEqual(b.map((l) => l.eventId), ['e1', 'e3']);
    });

    it('sums upstream counters written in batches', async () => {
      const counters = new UpstreamCounters(meta.db);
      counters.hit('gone', 'blob');
      counters.miss('gone', 'manifest');
      counters.servedBytes('gone', 100);
      await counters.flush();
      counters.hit('gone', 'manifest');
      counters.upstreamBytes('gone', 40);
      await counters.flush();
      const gone = (await readUpstreamTotals(meta.db)).get('gone');
      assert.deepEqual({ ...gone, updatedAt: undefined }, {
        hits: { manifest: 1, blob: 1 }, misses: { manifest: 1, blob: 0 }, servedBytes: 100, upstreamBytes: 40, errors: 0, updatedAt: undefined,
      });
    });

    it('follows `berth gc` deleting untagged manifests: the inventory forgets them and the run is recorded with its report', async () => {
      const first = await pushImage('q/gc', 'v1', 2000);
      await pushImage('q/gc', 'v1', 3000);
      const before = await read<{ items: ArtifactSummary[] }>(api('repositories/q/gc/-/artifacts?all=true'), 'ArtifactPage');
      assert.ok(before.items.some((a) => a.digest === first.digest), 'the untagged image is listed before the sweep');
      const sizeBefore = (await read<RepositorySummary>(api('repositories/q/gc'), 'Repository')).sizeBytes;
      await berthOk(['gc', '--delete-untagged', '--grace', '0s'], env, 120_000);
      const afterGc = await read<{ items: ArtifactSummary[] }>(api('repositories/q/gc/-/artifacts?all=true'), 'ArtifactPage');
      assert.deepEqual(afterGc.items.map((a) => a.digest).filter((d) => d === first.digest), []);
      assert.ok((await read<RepositorySummary>(api('repositories/q/gc'), 'Repository')).sizeBytes < sizeBefore);
      const runs = await allPages<{ id: string; trigger: string; manifests: number; dryRun: boolean }>(api('gc/runs?limit=1'), 'GcRunPage');
      const run = runs.find((r) => r.trigger === 'cli');
      assert.ok(run && run.manifests >= 1 && !run.dryRun, JSON.stringify(runs));
      const detail = await read<{ report: { manifests: { repository: string; digest: string }[] }; truncated: boolean }>(api(`gc/runs/${encodeURIComponent(run.id)}`), 'GcRun');
      assert.ok(detail.report.manifests.some((m) => m.repository === 'q/gc' && m.digest === first.digest));
      assert.equal(detail.truncated, false);
    });
  });
}
