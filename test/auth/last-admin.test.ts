// The last system administrator stays, also when two administrators are removed (or demoted) at
// the same moment, on both metadata backends.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { AccessStore, LastAdminError } from '../../src/auth/access-store.js';

const PASSWORD = 'correct-horse-9';

forEachMetaDatabase('the last system administrator', (backend) => {
  it('of two administrators removed or demoted concurrently, one stays', async () => {
    for (let round = 0; round < 4; round++) {
      const meta = await backend.open();
      try {
        const store = new AccessStore(meta.db);
        await store.addUser('a', PASSWORD, true);
        await store.addUser('b', PASSWORD, true);
        const outcomes = await Promise.allSettled(round % 2 === 0 ? [store.removeUser('a'), store.removeUser('b')] : [store.removeUser('a'), store.setAdmin('b', false)]);
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
        const refused = outcomes.find((o) => o.status === 'rejected');
        assert.ok(refused?.status === 'rejected' && refused.reason instanceof LastAdminError, String(refused?.status === 'rejected' && refused.reason));
        assert.equal((await store.users()).filter((u) => u.admin).length, 1);
      } finally {
        await meta.close();
      }
    }
  });
});
