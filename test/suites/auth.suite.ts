// The one behavioural suite for the Authenticator contract (src/auth/authenticator.ts). Each
// authenticator's test builds an instance (with the credentials it should accept and refuse) and
// calls authenticatorSuite(); nothing here knows a concrete authenticator. The authenticator runs
// alone in a chain, as it does in the registry, so an unknown name gets the chain's answer.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticatorChain, type Authentication, type Authenticator } from '../../src/auth/authenticator.js';
import type { Credentials } from '../../src/auth/credentials.js';
import type { Identity } from '../../src/auth/identity.js';
import type { SecretMatcher } from '../../src/auth/secrets.js';

export interface AuthenticatorFixture {
  authenticator: Authenticator;
  /** The bcrypt comparisons of the authenticator (observed by the suite). */
  secrets: SecretMatcher;
  /** Credentials it accepts, and who they prove. */
  valid: Credentials;
  identity: { kind: Identity['kind']; name: string };
  /** The same name with a wrong secret (for tokens: a forged signature). */
  wrong: Credentials;
  /** A name nobody holds (for tokens: a token signed by a key nobody trusts). */
  unknown: Credentials;
  /** Credentials of another scheme: not this authenticator's. */
  foreign: Credentials;
  /** An expired account or token: its right secret, and for passwords a wrong one. */
  expired?: { right: Credentials; wrong?: Credentials };
  /** Changes or removes the credential `valid` proves. */
  revoke(): Promise<void>;
  close(): Promise<void>;
}

export interface AuthenticatorTraits {
  /** password: a secret compared with a stored bcrypt hash; token: a signed bearer token; directory: a password an external directory (LDAP) checks. */
  secret: 'password' | 'token' | 'directory';
  /** Whether its accounts or tokens can expire. */
  expires: boolean;
}

/** What a name looks like inside the credentials, to check that refusals never mention it. */
function nameIn(credentials: Credentials): string | undefined {
  return credentials.kind === 'basic' ? credentials.user : undefined;
}

function refusal(result: Authentication | undefined): string {
  assert.ok(result, 'the chain gives a verdict');
  assert.equal(result.ok, false, `refused, not ${JSON.stringify(result)}`);
  return (result as { reason: string }).reason;
}

/** A refusal's reason tells neither the name nor whether it exists. */
function discreet(reason: string, credentials: Credentials): void {
  const name = nameIn(credentials);
  if (name) assert.ok(!reason.includes(name), `the reason "${reason}" names the user`);
  assert.doesNotMatch(reason, /exist|unknown user|no such|not found/i);
}

export function authenticatorSuite(name: string, traits: AuthenticatorTraits, make: () => Promise<AuthenticatorFixture>): void {
  describe(`authenticator contract: ${name}`, () => {
    let f: AuthenticatorFixture;
    let chain: AuthenticatorChain;
    /** The bcrypt cost of every comparison since the last take(). */
    let costs: number[];
    const take = () => costs.splice(0);

    before(async () => {
      f = await make();
      chain = new AuthenticatorChain([f.authenticator], f.secrets);
      costs = [];
      const inner = f.secrets.verifier;
      f.secrets.verifier = { verify: (secret, hash) => { costs.push(Number(/^\$2[abxy]\$(\d{2})\$/.exec(hash)?.[1] ?? -1)); return inner.verify(secret, hash); } };
    });
    after(async () => f.close());

    it('accepts the right credentials and names the identity (its name and kind)', async () => {
      const result = await chain.authenticate(f.valid);
      assert.ok(result?.ok, `accepted, not ${JSON.stringify(result)}`);
      assert.equal(result.identity.kind, f.identity.kind);
      assert.equal((result.identity as { name: string }).name, f.identity.name);
    });

    it('refuses a wrong secret, with a reason that names nobody', async () => {
      const reason = refusal(await chain.authenticate(f.wrong));
      if (traits.secret !== 'token') assert.equal(reason, 'invalid');
      discreet(reason, f.wrong);
    });

    if (traits.secret === 'directory') {
      it('refuses an unknown name exactly as a wrong password, with no bcrypt work here', async () => {
        take();
        assert.deepEqual(await chain.authenticate(f.unknown), await chain.authenticate(f.wrong));
        assert.deepEqual(take(), []);
      });
    }

    if (traits.secret === 'password') {
      it('refuses an unknown name exactly as a wrong secret, after the same bcrypt work', async () => {
        take();
        const wrong = await chain.authenticate(f.wrong);
        const wrongWork = take();
        const unknown = await chain.authenticate(f.unknown);
        const unknownWork = take();
        assert.deepEqual(unknown, wrong, 'the same answer');
        assert.equal(wrongWork.length, 1, 'one comparison for a wrong secret');
        assert.deepEqual(unknownWork, wrongWork, 'one comparison at the same cost for an unknown name');
      });

      it('remembers a right secret briefly: signing in again does no bcrypt work', async () => {
        assert.ok((await chain.authenticate(f.valid))?.ok);
        take();
        assert.ok((await chain.authenticate(f.valid))?.ok);
        assert.deepEqual(take(), []);
      });
    } else if (traits.secret === 'token') {
      it('refuses a token signed by a key nobody trusts, with a reason that names nobody', async () => {
        discreet(refusal(await chain.authenticate(f.unknown)), f.unknown);
      });
    }

    if (traits.expires) {
      it('refuses an expired account or token; a wrong secret of one is refused as invalid, telling nothing', async () => {
        assert.ok(f.expired, 'the fixture gives an expired credential');
        const reason = refusal(await chain.authenticate(f.expired.right));
        if (traits.secret === 'password') assert.equal(reason, 'expired');
        discreet(reason, f.expired.right);
        if (f.expired.wrong) assert.equal(refusal(await chain.authenticate(f.expired.wrong)), 'invalid');
      });
    }

    it('leaves credentials of another scheme to the authenticators after it', async () => {
      assert.equal(await f.authenticator.authenticate(f.foreign), undefined);
    });

    it('refuses the old credential once it is changed or removed', async () => {
      assert.ok((await chain.authenticate(f.valid))?.ok, 'good before the change');
      await f.revoke();
      discreet(refusal(await chain.authenticate(f.valid)), f.valid);
    });
  });
}
